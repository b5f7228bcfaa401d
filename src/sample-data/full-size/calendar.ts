/**
 * Dates as whole days since 1970-01-01 (UTC), the generator's working unit: cheap to compare and
 * add, and turned into `yyyy-mm-dd` text through a cache, since the full data set writes some
 * seven million dates drawn from a few thousand distinct days. UTC throughout, so no time zone or
 * daylight-saving change can move a date.
 */
const MS_PER_DAY = 86_400_000;

/** The sample's "still" end date. */
export const FOREVER = dayOf('9999-01-01');

const isoCache = new Map<number, string>();

/** `yyyy-mm-dd` → day number. */
export function dayOf(iso: string): number {
  const [year, month, day] = iso.split('-').map(Number) as [number, number, number];
  return Date.UTC(year, month - 1, day) / MS_PER_DAY;
}

/** Day number → `yyyy-mm-dd`. */
export function isoOf(day: number): string {
  let iso = isoCache.get(day);
  if (iso === undefined) {
    iso = new Date(day * MS_PER_DAY).toISOString().slice(0, 10);
    isoCache.set(day, iso);
  }
  return iso;
}

/**
 * The same day `years` later: the yearly anniversaries of the sample's salary rows. A 29 February
 * lands on 1 March in a common year (what `Date.UTC` does), the same on every machine.
 */
export function addYears(day: number, years: number): number {
  let parts = partsCache.get(day);
  if (parts === undefined) {
    const date = new Date(day * MS_PER_DAY);
    parts = [date.getUTCFullYear(), date.getUTCMonth(), date.getUTCDate()];
    partsCache.set(day, parts);
  }
  return Date.UTC(parts[0] + years, parts[1], parts[2]) / MS_PER_DAY;
}

/** Year, month (0-based) and day of a day number: `addYears` runs tens of millions of times in a full load. */
const partsCache = new Map<number, [year: number, month: number, day: number]>();
