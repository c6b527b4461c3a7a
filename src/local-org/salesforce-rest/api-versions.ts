/** The REST API versions the local org answers under `/services/data/vNN.0`. */
export const OLDEST_API_VERSION = 50;
export const LATEST_API_VERSION = 66;

/** Salesforce names three releases a year; v60.0 was Spring '24, and each Winter release carries the next year. */
export function releaseLabel(version: number): string {
  const offset = version - 60;
  const season = ((offset % 3) + 3) % 3;
  const year = 24 + Math.floor(offset / 3);
  return season === 0 ? `Spring '${year}` : season === 1 ? `Summer '${year}` : `Winter '${year + 1}`;
}

export function apiVersions() {
  const versions = [];
  for (let v = OLDEST_API_VERSION; v <= LATEST_API_VERSION; v++) {
    versions.push({ label: releaseLabel(v), url: `/services/data/v${v}.0`, version: `${v}.0` });
  }
  return versions;
}

/** The number of a `vNN.0` path segment the local org serves, or undefined. */
export function parseVersionSegment(segment: string): number | undefined {
  const match = /^v(\d{2})\.0$/.exec(segment);
  const version = match ? Number(match[1]) : NaN;
  return version >= OLDEST_API_VERSION && version <= LATEST_API_VERSION ? version : undefined;
}
