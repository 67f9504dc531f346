/** Remembers answers for two seconds: a change reaches every API process that quickly. */
export function cached<T>(load: (tenant: string, collection: string, extra: string) => Promise<T>) {
  const cache = new Map<string, { value: T; at: number }>();
  const get = async (tenant: string, collection: string, extra = ''): Promise<T> => {
    const key = `${tenant}\u0000${collection}\u0000${extra}`;
    const hit = cache.get(key);
    if (hit && Date.now() - hit.at < 2_000) return hit.value;
    const value = await load(tenant, collection, extra);
    if (cache.size > 10_000) cache.clear();
    cache.set(key, { value, at: Date.now() });
    return value;
  };
  return Object.assign(get, { clear: () => cache.clear() });
}
