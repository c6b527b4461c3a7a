/**
 * Whether the `instanceurl` a Pub/Sub client sends names this org. Clients written for Salesforce build it
 * from a configured `https://` URL, often with a trailing slash, while the local org serves plain HTTP: the
 * scheme and trailing slashes say nothing about which org is meant, so only host, port and path count.
 */
export function namesInstance(given: string | undefined, instanceUrl: string): boolean {
  if (!given) return false;
  const key = (value: string) => {
    try {
      const url = new URL(value.trim());
      if (url.protocol !== 'http:' && url.protocol !== 'https:') return undefined;
      const port = url.port || (url.protocol === 'https:' ? '443' : '80');
      return `${url.hostname.toLowerCase()}:${port}${url.pathname.replace(/\/+$/, '')}`;
    } catch {
      return undefined;
    }
  };
  const ours = key(instanceUrl);
  const theirs = key(given);
  return ours !== undefined && ours === theirs;
}
