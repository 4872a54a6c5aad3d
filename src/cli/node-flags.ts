/**
 * The Node flags `toneguard serve` runs with: the image's entrypoint, `npm start` and
 * `bench:media` all pass these (`test/cli/node-flags.test.ts` keeps them in step).
 *
 * Semi-spaces of at most 2 MB: on the media path almost nothing survives a scavenge, but each one
 * sweeps the ArrayBuffer of every network read since the last. At V8's default the young
 * generation grew to 16 MB semi-spaces, filled about once a second, and that scavenge paused the
 * media loop for 4–5 ms, which set the 99th-percentile frame latency; capped, the same sweeping
 * comes as shorter pauses several times a second.
 */
export const SERVE_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=2'];
