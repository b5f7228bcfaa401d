/**
 * A short, human label for a User-Agent ("Firefox on Linux", "curl"), shown beside each session
 * in "My sessions". Written here rather than taken from a UA-parsing library: a label for a list
 * needs a dozen patterns, not a database of devices, and it must stay small in the session record.
 */
const BROWSERS: Array<[RegExp, string]> = [
  [/Edg\//, 'Edge'],
  [/OPR\//, 'Opera'],
  [/Firefox\//, 'Firefox'],
  [/Chrom(e|ium)\//, 'Chrome'],
  [/Safari\//, 'Safari'],
  [/^curl\//, 'curl'],
  [/^python-requests\//, 'Python requests'],
  [/^(node|undici)/i, 'Node.js'],
  [/^Wget\//, 'Wget'],
  [/^PostmanRuntime\//, 'Postman'],
];

const SYSTEMS: Array<[RegExp, string]> = [
  [/Android/, 'Android'],
  [/iPhone|iPad|iOS/, 'iOS'],
  [/Windows/, 'Windows'],
  [/Mac OS X|Macintosh/, 'macOS'],
  [/CrOS/, 'ChromeOS'],
  [/Linux/, 'Linux'],
];

/** The major version after a browser's token (`Chrome/131.0…` → 131), to tell two machines apart. */
const VERSIONS: Record<string, RegExp> = {
  Edge: /Edg\/(\d+)/,
  Opera: /OPR\/(\d+)/,
  Firefox: /Firefox\/(\d+)/,
  Chrome: /Chrom(?:e|ium)\/(\d+)/,
  Safari: /Version\/(\d+)/,
};

/**
 * "Chrome 131 on Linux", "curl"; with `via`, how the login was made: "Chrome 131 on Linux, Swagger UI".
 * One browser logged in on the login page and in Swagger UI thus shows two different labels.
 */
export function clientLabel(userAgent: string | undefined, via?: string): string {
  const label = deviceLabel(userAgent);
  return via ? `${label}, ${via}` : label;
}

function deviceLabel(userAgent: string | undefined): string {
  if (!userAgent) return 'Unknown client';
  const browser = BROWSERS.find(([pattern]) => pattern.test(userAgent))?.[1];
  const system = SYSTEMS.find(([pattern]) => pattern.test(userAgent))?.[1];
  const version = browser && VERSIONS[browser]?.exec(userAgent)?.[1];
  const named = browser && version ? `${browser} ${version}` : browser;
  if (named && system) return `${named} on ${system}`;
  return named ?? system ?? 'Other client';
}
