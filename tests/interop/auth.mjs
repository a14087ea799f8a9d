// NIP-42 interop: nostr-tools clients against a relay with relay.auth.enabled and serviceUrl set to
// the URL they connect to. Authors and recipients authenticate (the ways nostr-tools does it) and
// read and count their DMs; another client, unauthenticated or authenticated as someone else,
// neither reads nor counts them, stored or live.
// Usage: node auth.mjs ws://127.0.0.1:PORT   -> exit 0 and "AUTH INTEROP OK" when every step passed.
import { Relay, useWebSocketImplementation } from 'nostr-tools/relay'
import { SimplePool, useWebSocketImplementation as usePoolWebSocket } from 'nostr-tools/pool'
import { generateSecretKey, getPublicKey, finalizeEvent } from 'nostr-tools/pure'
import WebSocket from 'ws'

useWebSocketImplementation(WebSocket)
usePoolWebSocket(WebSocket)

const url = process.argv[2]
if (!url) { console.error('usage: node auth.mjs ws://host:port'); process.exit(2) }

const fail = (msg) => { console.error('AUTH INTEROP FAIL: ' + msg); process.exit(1) }
const check = (cond, msg) => { if (!cond) fail(msg) }
const now = () => Math.floor(Date.now() / 1000)
const sleep = (ms) => new Promise((r) => setTimeout(r, ms))
const withTimeout = (p, ms, what) => Promise.race([p, new Promise((_, rej) => setTimeout(() => rej(new Error('timeout: ' + what)), ms))])
const signer = (sk) => async (template) => finalizeEvent(template, sk)
const ids = (events) => events.map((e) => e.id).sort()
const same = (a, b) => JSON.stringify([...a].sort()) === JSON.stringify([...b].sort())

// One REQ on a Relay: resolves with the events up to EOSE, or { closed: reason }.
function query(relay, filters, ms = 5000) {
  return withTimeout(new Promise((resolve) => {
    const got = []
    const sub = relay.subscribe(filters, {
      onevent: (e) => got.push(e),
      oneose: () => { resolve(got); sub.close() },
      onclose: (reason) => resolve({ closed: reason }),
    })
  }), ms, 'query ' + JSON.stringify(filters))
}

async function countOrRefusal(relay, filters) {
  try { return await withTimeout(relay.count(filters), 5000, 'count') } catch (e) { return { refused: String(e.message || e) } }
}

const aliceSk = generateSecretKey(), alice = getPublicKey(aliceSk)
const bobSk = generateSecretKey(), bob = getPublicKey(bobSk)
const eveSk = generateSecretKey(), eve = getPublicKey(eveSk)
const steps = []

// 1. DMs and a public note are published without AUTH (writes of DMs need none).
const writer = await withTimeout(Relay.connect(url), 5000, 'connect writer')
const dmToBob = finalizeEvent({ kind: 4, created_at: now(), tags: [['p', bob]], content: 'ciphertext for bob' }, aliceSk)
const wrapToBob = finalizeEvent({ kind: 1059, created_at: now(), tags: [['p', bob]], content: 'gift wrap for bob' }, generateSecretKey())
const dmToAlice = finalizeEvent({ kind: 4, created_at: now(), tags: [['p', alice]], content: 'ciphertext for alice' }, bobSk)
const publicNote = finalizeEvent({ kind: 1, created_at: now(), tags: [['p', bob]], content: 'hi bob, in public' }, aliceSk)
for (const e of [dmToBob, wrapToBob, dmToAlice, publicNote]) await withTimeout(writer.publish(e), 5000, 'publish ' + e.kind)
steps.push(['published', 4])

// 2. Bob through SimplePool with onauth: the relay refuses with auth-required (after its challenge),
//    the pool signs the AUTH and re-sends the REQ on its own.
const bobPool = new SimplePool()
const bobDms = await withTimeout(bobPool.querySync([url], { kinds: [4, 1059], '#p': [bob] }, { onauth: signer(bobSk) }), 8000, 'bob querySync')
check(same(ids(bobDms), [dmToBob.id, wrapToBob.id]), 'bob read ' + JSON.stringify(bobDms.map((e) => e.content)))
const bobRelay = await bobPool.ensureRelay(url)
const bobCount = await countOrRefusal(bobRelay, [{ kinds: [4, 1059], '#p': [bob] }])
check(bobCount === 2, 'bob counted ' + JSON.stringify(bobCount))
steps.push(['bob reads and counts', bobDms.length])

// 3. Alice on a Relay with onauth set: nostr-tools answers the challenge by itself; after the
//    auth-required CLOSED she waits for auth() and asks again, seeing what she sent and received.
const aliceRelay = await withTimeout(Relay.connect(url), 5000, 'connect alice')
aliceRelay.onauth = signer(aliceSk)
const first = await query(aliceRelay, [{ kinds: [4], authors: [alice] }, { kinds: [4], '#p': [alice] }])
check(first.closed && first.closed.startsWith('auth-required: '), 'alice first REQ: ' + JSON.stringify(first))
await withTimeout(aliceRelay.auth(signer(aliceSk)), 5000, 'alice auth')
const aliceDms = await query(aliceRelay, [{ kinds: [4], authors: [alice] }, { kinds: [4], '#p': [alice] }])
check(Array.isArray(aliceDms) && same(ids(aliceDms), [dmToBob.id, dmToAlice.id]), 'alice read ' + JSON.stringify(aliceDms))
check(await countOrRefusal(aliceRelay, [{ kinds: [4, 1059] }]) === 2, 'alice count of kinds 4, 1059')
steps.push(['alice reads and counts', aliceDms.length])

// 4. Eve, unauthenticated: refused for DM-only filters, and nothing of the DMs by any other filter.
const dmIds = [dmToBob.id, wrapToBob.id, dmToAlice.id]
const eveRelay = await withTimeout(Relay.connect(url), 5000, 'connect eve')
const eveFilters = [
  [{}], [{ kinds: [1, 4, 1059] }], [{ ids: dmIds }], [{ '#p': [bob] }], [{ '#p': [alice] }], [{ authors: [alice, bob] }],
]
async function eveSeesNoDms(label) {
  for (const filters of eveFilters) {
    const got = await query(eveRelay, filters)
    check(Array.isArray(got), `${label} REQ ${JSON.stringify(filters)} closed: ${got.closed}`)
    check(!got.some((e) => dmIds.includes(e.id)), `${label} read a DM with ${JSON.stringify(filters)}`)
    const n = await countOrRefusal(eveRelay, filters)
    const expected = got.length
    check(n === expected, `${label} COUNT ${JSON.stringify(filters)} = ${JSON.stringify(n)}, REQ gave ${expected}`)
  }
}
const eveDmReq = await query(eveRelay, [{ kinds: [4, 1059] }])
check(eveDmReq.closed && eveDmReq.closed.startsWith('auth-required: '), 'eve DM REQ: ' + JSON.stringify(eveDmReq))
const eveDmCount = await countOrRefusal(eveRelay, [{ kinds: [4] }])
check(eveDmCount.refused && eveDmCount.refused.startsWith('auth-required: '), 'eve DM COUNT: ' + JSON.stringify(eveDmCount))
await eveSeesNoDms('eve unauthenticated')

// 5. Eve authenticated as herself: DM filters run, and count nothing of others'.
await withTimeout(eveRelay.auth(signer(eveSk)), 5000, 'eve auth')
const eveAuthed = await query(eveRelay, [{ kinds: [4, 1059] }])
check(Array.isArray(eveAuthed) && eveAuthed.length === 0, 'authenticated eve read ' + JSON.stringify(eveAuthed))
check(await countOrRefusal(eveRelay, [{ kinds: [4, 1059] }]) === 0, 'authenticated eve counted DMs')
check(await countOrRefusal(eveRelay, [{ kinds: [4], '#p': [bob] }]) === 0, 'authenticated eve counted bob\'s DMs')
await eveSeesNoDms('eve authenticated')
steps.push(['eve sees and counts none', 0])

// 6. Live: bob's open subscription gets a new DM; eve's (authenticated and not) get only the public marker.
const bobLive = withTimeout(new Promise((resolve) => {
  const sub = bobPool.subscribe([url], { kinds: [4], '#p': [bob], since: now() - 1 }, {
    onevent: (e) => { if (e.content === 'live dm') { sub.close(); resolve(e) } },
  })
}), 8000, 'bob live DM')
const eveLiveGot = []
const eveMarker = withTimeout(new Promise((resolve) => {
  eveRelay.subscribe([{ kinds: [1, 4, 1059], since: now() - 1 }], {
    onevent: (e) => { eveLiveGot.push(e); if (e.content === 'live marker') resolve() },
  })
}), 8000, 'eve live marker')
const anon = await withTimeout(Relay.connect(url), 5000, 'connect anon')
const anonGot = []
const anonMarker = withTimeout(new Promise((resolve) => {
  anon.subscribe([{ since: now() - 1 }], {
    onevent: (e) => { anonGot.push(e); if (e.content === 'live marker') resolve() },
  })
}), 8000, 'anon live marker')
await sleep(300)
const liveDm = finalizeEvent({ kind: 4, created_at: now(), tags: [['p', bob]], content: 'live dm' }, aliceSk)
await withTimeout(writer.publish(liveDm), 5000, 'publish live dm')
await withTimeout(writer.publish(finalizeEvent({ kind: 1, created_at: now(), tags: [], content: 'live marker' }, aliceSk)), 5000, 'publish marker')
check((await bobLive).id === liveDm.id, 'bob live DM mismatch')
await eveMarker
await anonMarker
check(!eveLiveGot.some((e) => e.kind === 4), 'eve received a DM live: ' + JSON.stringify(eveLiveGot))
check(!anonGot.some((e) => e.kind === 4), 'unauthenticated client received a DM live')
steps.push(['live', liveDm.id])

// 7. NIP-70: a protected event through SimplePool.publish with onauth: refused with auth-required,
//    the pool authenticates and publishes again.
const alicePool = new SimplePool()
const protectedNote = finalizeEvent({ kind: 1, created_at: now(), tags: [['-']], content: 'only alice may publish this' }, aliceSk)
const published = await withTimeout(Promise.all(alicePool.publish([url], protectedNote, { onauth: signer(aliceSk) })), 8000, 'publish protected')
steps.push(['protected', published[0]])
const stored = await query(writer, [{ ids: [protectedNote.id] }])
check(stored.length === 1, 'protected note not stored')

for (const s of steps) console.log(...s)
for (const r of [writer, aliceRelay, eveRelay, anon]) r.close()
bobPool.destroy()
alicePool.destroy()
console.log('AUTH INTEROP OK')
process.exit(0)
