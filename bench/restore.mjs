/**
 * Restore benchmark: what a user runs, `app-backup restore NAME --config FILE` (a fresh CLI
 * process reading the backup from a local folder container), on a real app's tree (a copy of this
 * checkout's node_modules, ~42k files), into an empty folder vs `unzip -q` and over the existing,
 * slightly changed home vs `unzip -o -q`, on /dev/shm; alternating, medians reported. It is the
 * restore part of the scale benchmark (bench/scale.mjs) on that one tree.
 *
 *   npm run build && node bench/restore.mjs
 *
 * Environment: as bench/scale.mjs (BENCH_ROUNDS, BENCH_DIR, BENCH_SCALE_SIZES=42k,250k for more
 * trees). Exits 1 if a bar fails.
 */
process.env.BENCH_SCALE_SIZES ??= "42k";
process.env.BENCH_SCALE_PARTS ??= "restore,memory";
await import("./scale.mjs");
