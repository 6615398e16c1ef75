/**
 * BullMQ refuses custom job ids that contain ':' (its key separator) or that parse as
 * integers (its own auto ids), yet Pantheon's dedupe keys are naturally `slack:C123:1700.1`
 * or a bare Telegram update id. Ids are escaped on the way in and unescaped on the way out,
 * so callers never see the difference: '%' → %25 and ':' → %3A, and a leading character
 * is escaped when the whole id would read as an integer.
 */
export function toBullJobId(id: string): string {
  let out = id.replace(/%/g, '%25').replace(/:/g, '%3A');
  if (`${parseInt(out, 10)}` === out) out = escapeChar(out[0]!) + out.slice(1);
  return out;
}

export function fromBullJobId(id: string): string {
  return id.replace(/%([0-9A-F]{2})/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)));
}

function escapeChar(ch: string): string {
  return `%${ch.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`;
}
