/**
 * Browsers send a raw `%` in a path as typed (the original's search page built
 * `/emp/search/%nas%/%An` by string concatenation), which is not valid percent-encoding, and
 * Fastify would refuse the whole URL with 400. Before routing, every `%` that does not start a
 * valid UTF-8 percent-encoded sequence is re-encoded as `%25`, so it reaches the route as the
 * literal `%` the person typed. Valid escapes (`%25`, `%20`, `%C3%A9`) are left alone.
 */

const ESCAPE_RUN = /(?:%[0-9A-Fa-f]{2})+/g;

function escapeSegmentRuns(path: string): string {
  // First protect runs of %XX that do not decode as UTF-8 (e.g. `%Ab` in `%Abe%`).
  const protectedRuns = path.replace(ESCAPE_RUN, (run) => {
    try {
      decodeURIComponent(run);
      return run;
    } catch {
      return run.replaceAll('%', '%25');
    }
  });
  // Then any `%` left that is not followed by two hex digits.
  return protectedRuns.replace(/%(?![0-9A-Fa-f]{2})/g, '%25');
}

export function escapeStrayPercents(url: string): string {
  if (!url.includes('%')) return url;
  const queryStart = url.indexOf('?');
  if (queryStart === -1) return escapeSegmentRuns(url);
  return escapeSegmentRuns(url.slice(0, queryStart)) + url.slice(queryStart);
}
