// The `mixed` scenario of `contacto-load` for teams that already run k6: a realistic day of
// customers who mostly read the directory, sometimes look at their wallet, review a professional,
// pay a merchant or send money, and now and then top up or withdraw, with think time.
//
// It mirrors benches/src/load/scenarios/mixed.rs (same shares, amounts and operation names, as the
// `op` tag). It was written against contacto-server/tests/snapshots/openapi.json but has NOT been
// executed in Contacto's own environment (k6 cannot be installed there); contacto-load is the
// reference. See docs/PERFORMANCE.md.
//
//   k6 run -e BASE_URL=http://127.0.0.1:8080 -e WEBHOOK_SECRET="$CONTACTO_WEBHOOK_SECRET" \
//          -e VUS=200 -e HOLD=30s benches/load/k6/mixed.js
//
// The directory must hold professionals already (cargo run --release -p contacto-benches
// --bin directory-seed -- --database-url ...). Funding needs the server's webhook secret.

import http from 'k6/http';
import crypto from 'k6/crypto';
import { check, sleep } from 'k6';

const BASE = __ENV.BASE_URL || 'http://127.0.0.1:8080';
const SECRET = __ENV.WEBHOOK_SECRET || '';
const VUS = parseInt(__ENV.VUS || '200', 10);
const CUSTOMERS = parseInt(__ENV.CUSTOMERS || String(VUS), 10);
const MERCHANTS = parseInt(__ENV.MERCHANTS || '20', 10);
const THINK_S = parseFloat(__ENV.THINK_S || '1');
const RUN = `${Date.now().toString(36)}${Math.floor(Math.random() * 1e6).toString(36)}`;
const PASSWORD = 'a load-test pass phrase';
const JSON_HEADERS = { 'Content-Type': 'application/json' };

export const options = {
  scenarios: {
    mixed: {
      executor: 'ramping-vus',
      startVUs: 0,
      stages: [
        { duration: __ENV.RAMP_UP || '10s', target: VUS },
        { duration: __ENV.HOLD || '30s', target: VUS },
        { duration: __ENV.RAMP_DOWN || '5s', target: 0 },
      ],
      gracefulStop: '10s',
    },
  },
  setupTimeout: '10m',
  thresholds: {
    http_req_failed: ['rate<0.01'],
    'http_req_duration{op:search}': ['p(99)<100'],
    'http_req_duration{op:transfers}': ['p(99)<100'],
    'http_req_duration{op:payments}': ['p(99)<100'],
  },
};

// The directory mix, by class (benches/src/directory_queries.rs, abridged).
const QUERIES = [
  'q=plombier', 'q=%C3%A9lectricien', 'q=m%C3%A9decin%20g%C3%A9n%C3%A9raliste', 'q=avocat',
  'q=dentiste', 'q=pharmacie', 'q=boulangerie', 'q=garage', 'q=coiffeur',
  'q=%D8%B3%D8%A8%D8%A7%D9%83', 'q=%D8%B7%D8%A8%D9%8A%D8%A8', 'q=%D9%85%D8%AD%D8%A7%D9%85%D9%8A',
  'q=tbib', 'q=mohami', 'q=sebbak', 'q=plonbier', 'q=electricen', 'q=boulangrie', 'q=plomb',
  'q=pharm', 'q=karim%20benali', 'q=plombier&wilaya=16', 'q=avocat&wilaya=31&sort=-rating',
  'category=sante&wilaya=16', 'category=artisans-services&wilaya=09&sort=-rating',
  'category=sante&min_rating=4', 'category=beaute&verified=true', 'category=commerce&open_now=true',
  'lat=36.75&lng=3.06&radius_km=5&sort=distance', 'lat=35.70&lng=-0.63&radius_km=10&sort=distance',
  'q=plombier&page=2', 'category=sante&wilaya=16&page=3', 'sort=-rating', 'sort=newest',
];
const REVIEW_TEXTS = [
  'Travail soigné, je recommande.',
  'Ponctuel et aimable, prix correct.',
  'خدمة ممتازة وسعر معقول',
  'Rapide mais un peu cher.',
];

function key() {
  return `${RUN}-${__VU}-${__ITER}-${Math.random().toString(36).slice(2)}`;
}

function post(path, body, token, op, extraHeaders) {
  const headers = Object.assign({}, JSON_HEADERS, extraHeaders || {});
  if (token) headers.Authorization = `Bearer ${token}`;
  return http.post(`${BASE}${path}`, JSON.stringify(body), { headers, tags: { op } });
}

function get(path, token, op) {
  const headers = token ? { Authorization: `Bearer ${token}` } : {};
  return http.get(`${BASE}${path}`, { headers, tags: { op } });
}

function data(response) {
  return response.status >= 200 && response.status < 300 ? response.json('data') : null;
}

// A deposit, then the payment provider's signed confirmation.
function topUp(token, walletId, amount, op) {
  const deposit = data(post('/api/v1/deposits', { wallet_id: walletId, amount, method: 'cib' }, token, op ? 'deposits' : 'setup'));
  if (!deposit) return false;
  const body = JSON.stringify({ deposit_id: deposit.id, provider_reference: `k6-${deposit.id}`, status: 'succeeded' });
  const signature = `sha256=${crypto.hmac('sha256', SECRET, body, 'hex')}`;
  const settled = http.post(`${BASE}/api/v1/deposits/webhook`, body, {
    headers: Object.assign({ 'X-Contacto-Signature': signature }, JSON_HEADERS),
    tags: { op: op ? 'webhooks' : 'setup' },
  });
  return settled.status === 200;
}

function register(role, i, walletType) {
  const session = data(post('/api/v1/auth/register', {
    email: `k6.${RUN}.${role}.${i}@example.dz`, password: PASSWORD, full_name: `Charge ${i}`, role,
  }, null, 'setup'));
  if (!session) throw new Error(`registering ${role} ${i} failed`);
  const wallet = data(post('/api/v1/wallets', { type: walletType, currency: 'DZD' }, session.token, 'setup'));
  if (!wallet) throw new Error(`opening a wallet for ${role} ${i} failed`);
  return { token: session.token, wallet: wallet.id };
}

// Once, before the VUs start: customers with funded wallets, merchants, professionals to visit.
export function setup() {
  if (!SECRET) throw new Error('WEBHOOK_SECRET is needed to fund wallets (the server\'s CONTACTO_WEBHOOK_SECRET)');
  const customers = [];
  for (let i = 0; i < CUSTOMERS; i++) {
    const customer = register('customer', i, 'personal');
    if (!topUp(customer.token, customer.wallet, 10000000, false)) throw new Error('funding failed');
    customers.push(customer);
  }
  const merchants = [];
  for (let i = 0; i < MERCHANTS; i++) merchants.push(register('merchant', i, 'business').wallet);
  const professionals = [];
  for (let page = 1; page <= 10; page++) {
    const found = data(get(`/api/v1/professionals?limit=100&page=${page}`, null, 'setup'));
    if (!found) break;
    found.items.forEach((hit) => professionals.push(hit.slug));
    if (found.items.length < 100) break;
  }
  if (professionals.length === 0) throw new Error('the directory is empty: seed it first');
  return { customers, merchants, professionals };
}

function pick(list) {
  return list[Math.floor(Math.random() * list.length)];
}

let reviewed = 0; // per VU: professionals this VU's customer has reviewed

export default function (setupData) {
  const me = (__VU - 1) % setupData.customers.length;
  const customer = setupData.customers[me];
  const pros = setupData.professionals;
  const roll = Math.floor(Math.random() * 100);
  let response;
  if (roll < 50) {
    response = get(`/api/v1/professionals?${pick(QUERIES)}`, null, 'search');
  } else if (roll < 65) {
    response = get(`/api/v1/professionals/${encodeURIComponent(pick(pros))}`, null, 'profile');
  } else if (roll < 73) {
    response = get(`/api/v1/professionals/${encodeURIComponent(pick(pros))}/reviews?sort=newest`, null, 'reviews');
  } else if (roll < 78) {
    response = get('/api/v1/wallets', customer.token, 'wallets');
  } else if (roll < 83) {
    response = get(`/api/v1/wallets/${customer.wallet}/transactions?limit=20`, customer.token, 'history');
  } else if (roll < 87) {
    // A professional this customer has not reviewed yet (VUs sharing a customer may collide: 409).
    const slug = pros[(me * 7919 + reviewed) % pros.length];
    reviewed += 1;
    response = post(`/api/v1/professionals/${encodeURIComponent(slug)}/reviews`, {
      overall_rating: 3 + Math.floor(Math.random() * 3), text: pick(REVIEW_TEXTS), would_recommend: true,
    }, customer.token, 'review');
  } else if (roll < 92) {
    response = post('/api/v1/payments', {
      payer_wallet_id: customer.wallet, merchant_wallet_id: pick(setupData.merchants), amount: 5000, description: 'Commande',
    }, customer.token, 'payments', { 'Idempotency-Key': key() });
  } else if (roll < 97) {
    const others = setupData.customers.length;
    const other = setupData.customers[(me + 1 + Math.floor(Math.random() * Math.max(others - 1, 1))) % others];
    response = post('/api/v1/transfers', {
      from_wallet_id: customer.wallet, to_wallet_id: other.wallet, amount: 1000, description: 'Remboursement',
    }, customer.token, 'transfers', { 'Idempotency-Key': key() });
  } else if (roll < 99) {
    check(topUp(customer.token, customer.wallet, 100000, true), { 'top-up succeeded': (ok) => ok });
  } else {
    response = post('/api/v1/withdrawals', {
      wallet_id: customer.wallet, amount: 2000, rib: '00200123456789012354',
    }, customer.token, 'withdrawals', { 'Idempotency-Key': key() });
  }
  if (response) check(response, { 'status is 2xx': (r) => r.status >= 200 && r.status < 300 });
  sleep(THINK_S * (0.5 + Math.random()));
}
