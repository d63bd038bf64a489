#!/usr/bin/env node
// GraphQL-over-HTTP conformance audit of a running server, with graphql-http's
// server audits (the list `auditServer({ url })` runs).
//
//   node audit.mjs <url> [--timeout-ms N]
//
// Prints one JSON object per line on stdout, in the library's audit order:
//   {"id":"4655","name":"MUST accept application/json ...","status":"ok","reason":null}
// status is "ok", or for a failed audit "error" (MUST), "warn" (SHOULD) or
// "notice" (MAY), as graphql-http grades them. A failed audit also carries
// "response": {status, contentType, body (first 500 chars)} to help debugging.
// An audit that could not run at all (connection refused, timeout, ...) is
// reported as status "error" with "fatal": true.
//
// Audits run one after another so a small server pool is not flooded; their
// outcome does not depend on the order.
//
// Exit codes: 0 results printed (whatever they are), 2 bad usage, 1 crash.

import { serverAudits } from 'graphql-http';

function usage(message) {
  process.stderr.write(`${message}\nusage: node audit.mjs <url> [--timeout-ms N]\n`);
  process.exit(2);
}

const args = process.argv.slice(2);
let url;
let timeoutMs = 10000;
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--timeout-ms') {
    timeoutMs = Number(args[++i]);
    if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) usage('bad --timeout-ms');
  } else if (url === undefined) {
    url = args[i];
  } else {
    usage(`unexpected argument: ${args[i]}`);
  }
}
if (!url) usage('missing url');
try {
  const parsed = new URL(url);
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new Error();
} catch {
  usage(`not an http(s) URL: ${url}`);
}

// Every request gets a deadline so a hung server fails its audit instead of the run.
function fetchFn(input, init = {}) {
  return fetch(input, { ...init, signal: AbortSignal.timeout(timeoutMs) });
}

async function describe(response) {
  if (!response || typeof response.status !== 'number') return undefined;
  let body;
  try {
    body = (await response.clone().text()).slice(0, 500);
  } catch {
    body = undefined; // already consumed or aborted
  }
  return {
    status: response.status,
    contentType: response.headers.get('content-type'),
    body,
  };
}

// A closed pipe (e.g. `| head`) ends the run quietly.
process.stdout.on('error', (err) => {
  if (err.code === 'EPIPE') process.exit(0);
  throw err;
});

function emit(record) {
  process.stdout.write(`${JSON.stringify(record)}\n`);
}

for (const { id, name, fn } of serverAudits({ url, fetchFn })) {
  let result;
  try {
    result = await fn();
  } catch (err) {
    const cause = err?.cause ? `: ${err.cause.message ?? err.cause}` : '';
    const reason = `${err?.message ?? err}${cause}`;
    emit({ id, name, status: 'error', reason: `fatal: ${reason}`, fatal: true });
    continue;
  }
  const record = {
    id: result.id,
    name: result.name,
    status: result.status,
    reason: result.status === 'ok' ? null : result.reason,
  };
  if (result.status !== 'ok') {
    const response = await describe(result.response);
    if (response) record.response = response;
  }
  emit(record);
}
