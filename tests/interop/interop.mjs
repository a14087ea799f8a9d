// Interop check: nostr-tools (the client library most Nostr apps use) against a running relay.
// Usage: node interop.mjs ws://127.0.0.1:PORT   -> exit 0 and "INTEROP OK" when every step passed.
import { Relay, useWebSocketImplementation } from 'nostr-tools/relay'
import { generateSecretKey, getPublicKey, finalizeEvent } from 'nostr-tools/pure'
import WebSocket from 'ws'

useWebSocketImplementation(WebSocket)

const url = process.argv[2]
if (!url) { console.error('usage: node interop.mjs ws://host:port'); process.exit(2) }

const fail = (msg) => { console.error('INTEROP FAIL: ' + msg); process.exit(1) }
const check = (cond, msg) => { if (!cond) fail(msg) }
const now = () => Math.floor(Date.now() / 1000)
const withTimeout = (p, ms, what) => Promise.race([p, new Promise((_, rej) => setTimeout(() => rej(new Error('timeout: ' + what)), ms))])

function query(relay, filters, ms = 5000) {
  return withTimeout(new Promise((resolve) => {
    const got = []
    const sub = relay.subscribe(filters, {
      onevent: (e) => got.push(e),
      oneose: () => { sub.close(); resolve(got) },
    })
  }), ms, 'query ' + JSON.stringify(filters))
}

const sk = generateSecretKey()
const pk = getPublicKey(sk)
const steps = []

const relay = await withTimeout(Relay.connect(url), 5000, 'connect')
const listener = await withTimeout(Relay.connect(url), 5000, 'connect listener')

// 1. publish a note whose content exercises the canonical serialization (escapes, DEL, U+2028, emoji)
const note = finalizeEvent({
  kind: 1, created_at: now(), tags: [['t', 'interop'], ['p', pk]],
  content: 'hello "relay" \\ \n\t\r\b\f \u0001 \u007f \u2028 é 日本 🎉 </script>',
}, sk)
const okMsg = await withTimeout(relay.publish(note), 5000, 'publish note')
steps.push(['publish', okMsg])

// 2. query it back by id, by author and by tag
const byId = await query(relay, [{ ids: [note.id] }])
check(byId.length === 1 && byId[0].id === note.id && byId[0].content === note.content, 'query by id returned ' + JSON.stringify(byId))
const byTag = await query(relay, [{ '#t': ['interop'], authors: [pk] }])
check(byTag.some((e) => e.id === note.id), 'query by #t/author did not return the note')
steps.push(['query', byId.length])

// 3. live subscription on a second connection receives a new event
const live = withTimeout(new Promise((resolve) => {
  let eose = false
  const sub = listener.subscribe([{ authors: [pk], kinds: [1], since: now() - 5 }], {
    oneose: () => { eose = true },
    onevent: (e) => { if (eose && e.content === 'live!') { sub.close(); resolve(e) } },
  })
}), 5000, 'live delivery')
await new Promise((r) => setTimeout(r, 200))
const liveNote = finalizeEvent({ kind: 1, created_at: now(), tags: [], content: 'live!' }, sk)
await withTimeout(relay.publish(liveNote), 5000, 'publish live note')
const delivered = await live
check(delivered.id === liveNote.id, 'live event mismatch')
steps.push(['live', delivered.id])

// 4. replaceable: only the newest kind 0 is returned
const meta1 = finalizeEvent({ kind: 0, created_at: now() - 10, tags: [], content: '{"name":"old"}' }, sk)
const meta2 = finalizeEvent({ kind: 0, created_at: now(), tags: [], content: '{"name":"new"}' }, sk)
await relay.publish(meta1)
await relay.publish(meta2)
const metas = await query(relay, [{ kinds: [0], authors: [pk] }])
check(metas.length === 1 && metas[0].id === meta2.id, 'replaceable returned ' + JSON.stringify(metas.map((e) => e.content)))
steps.push(['replaceable', metas[0].content])

// 5. a bad signature is refused with an invalid: reason
const forged = { ...finalizeEvent({ kind: 1, created_at: now(), tags: [], content: 'forged' }, sk) }
forged.sig = forged.sig.slice(0, -2) + (forged.sig.endsWith('00') ? '11' : '00')
let refused = null
try { await relay.publish(forged) } catch (e) { refused = String(e.message || e) }
check(refused !== null && refused.includes('invalid'), 'forged event was not refused: ' + refused)
steps.push(['forged', refused])

// 6. COUNT (NIP-45)
const count = await withTimeout(relay.count([{ authors: [pk], kinds: [1] }]), 5000, 'count')
check(count === 2, 'count returned ' + count)
steps.push(['count', count])

// 7. NIP-09 deletion: the note disappears
const del = finalizeEvent({ kind: 5, created_at: now(), tags: [['e', note.id], ['k', '1']], content: '' }, sk)
await relay.publish(del)
const afterDelete = await query(relay, [{ ids: [note.id] }])
check(afterDelete.length === 0, 'deleted note still served')
steps.push(['delete', afterDelete.length])

relay.close()
listener.close()
console.log(JSON.stringify(steps))
console.log('INTEROP OK')
process.exit(0)
