/** A recording file with its header JSON replaced by `edit(header)` (the header length re-written to match). */
export function withHeader(file: Buffer, edit: (header: Record<string, unknown>) => Record<string, unknown>): Buffer {
  const length = file.readUInt32BE(7);
  const header = Buffer.from(JSON.stringify(edit(JSON.parse(file.subarray(11, 11 + length).toString('utf8')) as Record<string, unknown>)));
  const prefix = Buffer.alloc(11);
  file.copy(prefix, 0, 0, 7);
  prefix.writeUInt32BE(header.length, 7);
  return Buffer.concat([prefix, header, file.subarray(11 + length)]);
}

/** The header JSON of a recording file. */
export function headerOf(file: Buffer): Record<string, unknown> {
  return JSON.parse(file.subarray(11, 11 + file.readUInt32BE(7)).toString('utf8')) as Record<string, unknown>;
}
