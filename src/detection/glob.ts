/** Case-insensitive matcher for a value that may contain `*` wildcards. */
export function globMatcher(pattern: string): (text: string) => boolean {
  const lowered = pattern.toLowerCase();
  if (!lowered.includes('*')) return (text) => text === lowered;
  const escaped = lowered.split('*').map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'));
  const regex = new RegExp(`^${escaped.join('.*')}$`);
  return (text) => regex.test(text);
}
