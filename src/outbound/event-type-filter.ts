/**
 * Whether an event passes a subscriber's type filter (a webhook endpoint's `eventTypes`, the event
 * stream's `?eventType=`): no filter passes everything; otherwise the event's type or, for an
 * Interaction, its entry type (`Message`, `TypingStartedIndicator`, ...) must be listed.
 */
export function matchesEventTypes(
  types: ReadonlySet<string> | null,
  event: { readonly eventType: string; readonly entryType: string | null },
): boolean {
  if (!types) return true;
  return types.has(event.eventType) || (event.entryType !== null && types.has(event.entryType));
}
