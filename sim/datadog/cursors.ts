/**
 * Page cursors as Datadog issues them: unpadded base64url of `{"after":"<id of the last event on the page>"}`
 * (decoded from `meta.page.after` in the genuine pagination cassettes, DataDog/datadog-api-client-typescript
 * cassettes/v2/Audit_2643932488/*with-pagination*\/recording.har @ a6d1742). Opaque to clients; the simulator remembers
 * which search issued each one, so a cursor replayed on another search, or after `expire()`, is refused as Datadog
 * refuses a stale one.
 */

export interface CursorPosition {
  ts: number;
  id: string;
}

interface Issued extends CursorPosition {
  search: string;
  epoch: number;
}

/** Issued cursors kept; older ones are forgotten (and then refused), as Datadog's expire. */
const MAX_ISSUED = 200_000;

export function encodeCursor(afterId: string): string {
  return Buffer.from(JSON.stringify({ after: afterId })).toString('base64url');
}

export class CursorBook {
  private readonly issued = new Map<string, Issued>();
  private epoch = 0;

  issue(search: string, last: CursorPosition): string {
    const cursor = encodeCursor(last.id);
    const key = `${search}|${cursor}`;
    this.issued.delete(key);
    this.issued.set(key, { ...last, search, epoch: this.epoch });
    if (this.issued.size > MAX_ISSUED) this.issued.delete(this.issued.keys().next().value!);
    return cursor;
  }

  /** The position a cursor stands for on this search, or undefined when Datadog would answer "invalid cursor". */
  resolve(search: string, cursor: string): CursorPosition | undefined {
    const found = this.issued.get(`${search}|${cursor}`);
    if (!found || found.epoch !== this.epoch) return undefined;
    return { ts: found.ts, id: found.id };
  }

  /** Every cursor issued so far is refused from now on. */
  expire(): void {
    this.epoch++;
    this.issued.clear();
  }
}
