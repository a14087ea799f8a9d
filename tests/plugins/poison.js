#!/usr/bin/env node
// Write-policy plugin that dies (without answering) on any event whose content says "crash now",
// and accepts everything else: one poisonous event must not take other events down with it.
'use strict';

const input = require('readline').createInterface({ input: process.stdin, terminal: false });

input.on('line', (line) => {
  const request = JSON.parse(line);
  if (request.event.content.includes('crash now')) {
    process.stderr.write(`poison.js: dying on ${request.event.id}\n`);
    process.exit(1);
  }
  process.stdout.write(JSON.stringify({ id: request.event.id, action: 'accept' }) + '\n');
});
