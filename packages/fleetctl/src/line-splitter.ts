import { StringDecoder } from 'node:string_decoder';

/**
 * Turns a byte stream into its lines (UTF-8, split on `\n`, without the `\n`; a `\r` before it
 * is dropped too), yielding each line as soon as its end arrives. A last line without a line
 * break is yielded when the stream ends. Errors of the stream pass through.
 */
export async function* splitLines(chunks: AsyncIterable<Uint8Array>): AsyncIterable<string> {
  const decoder = new StringDecoder('utf8');
  let pending = '';
  for await (const chunk of chunks) {
    pending += decoder.write(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength));
    let start = 0;
    for (let end = pending.indexOf('\n'); end >= 0; end = pending.indexOf('\n', start)) {
      yield stripCr(pending.slice(start, end));
      start = end + 1;
    }
    pending = pending.slice(start);
  }
  pending += decoder.end();
  if (pending !== '') yield stripCr(pending);
}

function stripCr(line: string): string {
  return line.endsWith('\r') ? line.slice(0, -1) : line;
}
