/** `[██████░░░░░░]  50%  run 144/288 · detail`, cut to `columns`. */
export function renderProgress(done: number, total: number, detail: string, columns: number): string {
  const fraction = total === 0 ? 1 : Math.min(1, done / total);
  const barWidth = Math.max(10, Math.min(30, columns - 60));
  const filled = Math.round(fraction * barWidth);
  const percent = `${Math.floor(fraction * 100)}%`.padStart(4);
  const line = `[${'█'.repeat(filled)}${'░'.repeat(barWidth - filled)}] ${percent}  run ${done}/${total}${detail ? ` · ${detail}` : ''}`;
  return line.length > columns - 1 ? line.slice(0, Math.max(0, columns - 1)) : line;
}

/** A one-line progress bar on a terminal; redrawn at most every 100 ms, and kept below any line logged meanwhile. */
export class ProgressBar {
  private last = '';
  private drawnAt = 0;

  constructor(private readonly stream: NodeJS.WriteStream, private readonly total: number) {}

  update(done: number, detail: string): void {
    const now = Date.now();
    if (done < this.total && now - this.drawnAt < 100) return;
    this.drawnAt = now;
    this.last = renderProgress(done, this.total, detail, this.stream.columns || 80);
    this.stream.write(`\r\x1b[2K${this.last}`);
  }

  /** Writes a line (a retry notice) without tearing the bar. */
  log(line: string): void {
    this.stream.write(`\r\x1b[2K${line}\n${this.last}`);
  }

  clear(): void {
    this.stream.write('\r\x1b[2K');
    this.last = '';
  }
}
