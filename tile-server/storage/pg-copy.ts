// COPY … FROM STDIN through node-postgres without pg-copy-streams: a "submittable" (pg's documented
// extension point for custom queries, node-postgres.com/apis/client#queryconfig) that answers the server's
// CopyInResponse with the given chunks. Text format (PostgreSQL docs, "COPY — File Formats"): one row per
// line, tab-separated, \N for NULL, backslash escapes for \\, tab, newline and carriage return.

import type { ClientBase } from 'pg';

interface Connection {
  query(text: string): void;
  sendCopyFromChunk(chunk: Buffer): void;
  endCopyFrom(): void;
  sendCopyFail(msg: string): void;
}

class CopyIn {
  private error: Error | null = null;
  private rows = 0;
  readonly done: Promise<number>;
  private resolve!: (n: number) => void;
  private reject!: (e: Error) => void;
  constructor(readonly text: string, private readonly chunks: Buffer[]) {
    this.done = new Promise((res, rej) => { this.resolve = res; this.reject = rej; });
  }
  submit(connection: Connection): void { connection.query(this.text); }
  handleCopyInResponse(connection: Connection): void {
    for (const c of this.chunks) connection.sendCopyFromChunk(c);
    connection.endCopyFrom();
  }
  handleCommandComplete(msg: { text?: string }): void {
    const m = /COPY (\d+)/.exec(msg.text ?? '');
    if (m) this.rows = Number(m[1]);
  }
  handleError(err: Error): void { this.error = err; }
  handleReadyForQuery(): void {
    if (this.error) this.reject(this.error);
    else this.resolve(this.rows);
  }
  // Messages a COPY never produces; present because pg calls them on any active query.
  handleRowDescription(): void {}
  handleDataRow(): void {}
  handleEmptyQuery(): void {}
  handlePortalSuspended(): void {}
  handleCopyData(): void {}
}

/** Runs `COPY <target> FROM STDIN` with the given text-format payload; resolves with the row count. */
export async function copyIn(client: ClientBase, target: string, payload: Buffer[]): Promise<number> {
  const q = new CopyIn(`COPY ${target} FROM STDIN`, payload);
  (client as unknown as { query(q: unknown): void }).query(q);
  return q.done;
}

/** A COPY text field: \N for null/undefined, escapes for the four special characters. */
export function copyField(v: unknown): string {
  if (v === null || v === undefined) return '\\N';
  const s = typeof v === 'boolean' ? (v ? 't' : 'f') : String(v);
  return /[\\\t\n\r]/.test(s) ? s.replace(/[\\\t\n\r]/g, (c) => (c === '\\' ? '\\\\' : c === '\t' ? '\\t' : c === '\n' ? '\\n' : '\\r')) : s;
}
