#!/usr/bin/env node
// Write-policy plugin (strfry's JSON-lines protocol), like the allow-list example in strfry's docs:
// events from the pubkeys below are accepted, all others refused. Configure it by path alone
// (relay.writePolicy.plugin = "/path/to/whitelist.js"), so an edit of this file restarts it.
'use strict';

const allowed = new Set([
  // the test suite's "allowed" key: secret key 0x07 repeated 32 times
  '989c0b76cb563971fdc9bef31ec06c3560f3249d6ee9e5d83c57625596e05f6f',
]);

const input = require('readline').createInterface({ input: process.stdin, terminal: false });

input.on('line', (line) => {
  const request = JSON.parse(line);
  if (request.type !== 'new') {
    process.stderr.write(`whitelist.js: ignoring request of type ${request.type}\n`);
    return;
  }
  const answer = { id: request.event.id };
  if (allowed.has(request.event.pubkey)) {
    answer.action = 'accept';
  } else {
    answer.action = 'reject';
    answer.msg = 'blocked: pubkey is not on the allow list';
  }
  process.stdout.write(JSON.stringify(answer) + '\n');
});
