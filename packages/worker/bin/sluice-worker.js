#!/usr/bin/env -S node --max-semi-space-size=8
// The sluice-worker program: its esbuild bundle, which `npm run build` makes (scripts/bundle.ts).
// V8's young generation is capped at 3 × 8 MiB: on a large host Node lets it grow to ~100 MiB
// when records are small (a Fetch answer of 100 B records is ~80,000 short-lived objects), and
// the worker's memory would follow the records' size instead of its settings (README,
// Configuration). The image's ENTRYPOINT passes the same flags (deploy/check verifies it).
import '../dist/bundle/main.js';
