/**
 * The hash route as path segments. A segment that is not a valid percent-encoding
 * (`%E0%A4`, a lone `%`) is kept as typed: `decodeURIComponent` throws on it, and a throw
 * here would leave the whole page blank.
 */
export function parseHash(hash: string): string[] {
  return hash
    .replace(/^#\/?/, '')
    .split('/')
    .map((part) => {
      try {
        return decodeURIComponent(part);
      } catch {
        return part;
      }
    });
}

/** The dashboard's address of a document: both parts encoded, `/` included. */
export function documentHref(collection: string, id: string): string {
  return `#/documents/${encodeURIComponent(collection)}/${encodeURIComponent(id)}`;
}
