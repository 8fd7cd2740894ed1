#!/usr/bin/env node
import { systemClock } from '@fleet/engine';
import { makeHttpClient } from '../api-client.js';
import { run } from '../cli.js';

const code = await run(process.argv.slice(2), {
  output: {
    out: (text) => process.stdout.write(text),
    err: (text) => process.stderr.write(text),
  },
  env: process.env,
  clock: systemClock,
  makeClient: makeHttpClient,
});
process.exitCode = code;
