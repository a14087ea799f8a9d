// NIP-77 cross-check: nostr-tools' negentropy client (nip77) reconciling against messages produced
// by Relay's engine. Driven over stdin/stdout by tests/Relay.Tests/Negentropy/NostrToolsInteropTests.cs:
//   in : {"items":[[timestamp,"idhex"],...],"frameSizeLimit":N}   (this side's set)
//   out: FP <hex>        fingerprint of the whole set, as nostr-tools computes it
//   out: INIT <hex>      nostr-tools' initial message
//   in : MSG <hex>       a reply from Relay's responder
//   out: MSG <hex>       nostr-tools' next message, or
//   out: DONE {"have":[...],"need":[...],"rounds":n}
//   out: ERROR <text>    (exit 1) when nostr-tools rejects a message
import { createInterface } from 'node:readline'
import { nip77 } from 'nostr-tools'

const lines = createInterface({ input: process.stdin, crlfDelay: Infinity })[Symbol.asyncIterator]()
const next = async () => {
  const { value, done } = await lines.next()
  if (done) { console.log('ERROR stdin closed'); process.exit(1) }
  return value
}

const config = JSON.parse(await next())
const storage = new nip77.NegentropyStorageVector()
for (const [timestamp, id] of config.items) storage.insert(timestamp, id)
storage.seal()
console.log('FP ' + Buffer.from(storage.fingerprint(0, storage.size())).toString('hex'))

const neg = new nip77.Negentropy(storage, config.frameSizeLimit)
console.log('INIT ' + neg.initiate())

const have = []
const need = []
let rounds = 1
for (;;) {
  const line = await next()
  if (!line.startsWith('MSG ')) { console.log('ERROR expected MSG, got ' + line.slice(0, 40)); process.exit(1) }
  let reply
  try {
    reply = neg.reconcile(line.slice(4), (id) => have.push(id), (id) => need.push(id))
  } catch (e) {
    console.log('ERROR ' + (e && e.message ? e.message : String(e)))
    process.exit(1)
  }
  if (reply === null) {
    // Exit only once the pipe has taken the whole line (process.exit would cut a long write short).
    process.stdout.write('DONE ' + JSON.stringify({ have, need, rounds }) + '\n', () => process.exit(0))
    break
  }
  rounds++
  console.log('MSG ' + reply)
}
