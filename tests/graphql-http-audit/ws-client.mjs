// The WebSocket door against the reference client of graphql-transport-ws (`graphql-ws`), as
// partner tools would use it: a query, a subscription that hears a change made over HTTP, the
// refusal of a bad token (4403) and of a hidden field (an error with its code).
//
//   node ws-client.mjs <http://host:port> <partner token> <public: none>
//
// Exits non-zero on the first check that does not hold.
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';

const [base, partnerToken] = process.argv.slice(2);
if (!base || !partnerToken) {
  console.error('usage: node ws-client.mjs <http://host:port> <partner token>');
  process.exit(2);
}
const wsUrl = base.replace(/^http/, 'ws') + '/graphql/ws';

function client(token, onClosed) {
  return createClient({
    url: wsUrl,
    webSocketImpl: WebSocket,
    lazy: true,
    retryAttempts: 0,
    connectionParams: token ? { Authorization: `Bearer ${token}` } : {},
    on: onClosed ? { closed: onClosed } : {},
  });
}

function once(c, query, variables = {}) {
  return new Promise((resolve, reject) => {
    let result;
    c.subscribe(
      { query, variables },
      { next: (value) => (result = value), error: reject, complete: () => resolve(result) },
    );
  });
}

async function http(query, variables, token) {
  const response = await fetch(base + '/graphql', {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query, variables }),
  });
  return response.json();
}

function check(ok, what, detail) {
  console.log(`${ok ? 'ok  ' : 'FAIL'}  ${what}`);
  if (!ok) {
    console.error(JSON.stringify(detail, null, 2));
    process.exit(1);
  }
}

const withTimeout = (promise, ms, what) =>
  Promise.race([promise, new Promise((_, reject) => setTimeout(() => reject(new Error(`timed out: ${what}`)), ms))]);

// 1. A query over the socket answers as over HTTP.
const partner = client(partnerToken);
const me = await withTimeout(once(partner, '{ me { role organisation { name } } }'), 10000, 'query');
check(me?.data?.me?.role === 'PARTNER', 'a query over graphql-ws answers as the partner', me);

// 2. A subscription hears a change made over HTTP, resolved for its subscriber.
const inbox = await http(
  '{ referrals(filter: { direction: INCOMING, status: [REQUESTED] }, first: 1) { edges { node { id version } } } }',
  {},
  partnerToken,
);
const referral = inbox?.data?.referrals?.edges?.[0]?.node;
check(Boolean(referral), 'the partner has a referral waiting', inbox);
const heard = new Promise((resolve, reject) => {
  partner.subscribe(
    { query: 'subscription { referralEvents { toStatus referral { id status } } }' },
    { next: resolve, error: reject, complete: () => reject(new Error('completed without an event')) },
  );
});
await new Promise((r) => setTimeout(r, 300));
const changed = await http(
  'mutation($id: ID!, $v: Int!) { changeReferralStatus(id: $id, status: RECEIVED, expectedVersion: $v) { status } }',
  { id: referral.id, v: referral.version },
  partnerToken,
);
check(changed?.data?.changeReferralStatus?.status === 'RECEIVED', 'the change over HTTP is made', changed);
const event = await withTimeout(heard, 10000, 'event');
check(
  event?.data?.referralEvents?.toStatus === 'RECEIVED' && event.data.referralEvents.referral.id === referral.id,
  'the subscription hears it',
  event,
);

// 3. A field outside the caller's schema is an error with a code, as over HTTP.
const publicClient = client(null);
const hidden = await withTimeout(
  once(publicClient, '{ auditLog { totalCount } }').then(
    (value) => ({ value }),
    (errors) => ({ errors }),
  ),
  10000,
  'hidden field',
);
const errors = Array.isArray(hidden.errors) ? hidden.errors : hidden.value?.errors;
check(errors?.[0]?.extensions?.code === 'BAD_USER_INPUT', 'a hidden field is refused with BAD_USER_INPUT', hidden);
check(!JSON.stringify(hidden).includes('Did you mean'), 'and nothing is suggested', hidden);

// 4. A bad token: the connection is refused with 4403.
const code = await withTimeout(
  new Promise((resolve) => {
    const bad = client('not-a-token', (event) => resolve(event.code));
    bad.subscribe({ query: '{ me { role } }' }, { next() {}, error() {}, complete() {} });
  }),
  10000,
  'close code',
);
check(code === 4403, 'a bad token closes the connection with 4403', { code });

await partner.dispose();
await publicClient.dispose();
console.log('passed: the WebSocket door with the graphql-ws reference client');
process.exit(0);
