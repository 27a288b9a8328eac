// Artillery processor for mixed.yml: the set-up (customers with funded wallets, merchants, the
// directory's professionals) and the per-visit choices. Node 18+ (global fetch).
'use strict';

const crypto = require('node:crypto');

const BASE = process.env.BASE_URL || 'http://127.0.0.1:8080';
const SECRET = process.env.WEBHOOK_SECRET || '';
const CUSTOMERS = parseInt(process.env.CUSTOMERS || '50', 10);
const MERCHANTS = parseInt(process.env.MERCHANTS || '10', 10);
const RUN = `${Date.now().toString(36)}${crypto.randomBytes(3).toString('hex')}`;
const PASSWORD = 'a load-test pass phrase';

// The directory mix, by class (benches/src/directory_queries.rs, abridged).
const QUERIES = [
  'q=plombier', 'q=électricien', 'q=médecin généraliste', 'q=avocat', 'q=dentiste', 'q=pharmacie',
  'q=boulangerie', 'q=garage', 'q=coiffeur', 'q=سباك', 'q=طبيب', 'q=محامي', 'q=tbib', 'q=mohami',
  'q=sebbak', 'q=plonbier', 'q=electricen', 'q=boulangrie', 'q=plomb', 'q=pharm', 'q=karim benali',
  'q=plombier&wilaya=16', 'q=avocat&wilaya=31&sort=-rating', 'category=sante&wilaya=16',
  'category=artisans-services&wilaya=09&sort=-rating', 'category=sante&min_rating=4',
  'category=beaute&verified=true', 'category=commerce&open_now=true',
  'lat=36.75&lng=3.06&radius_km=5&sort=distance', 'lat=35.70&lng=-0.63&radius_km=10&sort=distance',
  'q=plombier&page=2', 'category=sante&wilaya=16&page=3', 'sort=-rating', 'sort=newest',
].map((q) => q.split('&').map((pair) => {
  const [name, value] = pair.split('=');
  return `${name}=${encodeURIComponent(value)}`;
}).join('&'));

function sign(body) {
  return `sha256=${crypto.createHmac('sha256', SECRET).update(body).digest('hex')}`;
}

async function call(method, path, body, token, headers) {
  const response = await fetch(`${BASE}${path}`, {
    method,
    headers: Object.assign(
      { 'content-type': 'application/json' },
      token ? { authorization: `Bearer ${token}` } : {},
      headers || {},
    ),
    body: body === undefined ? undefined : (typeof body === 'string' ? body : JSON.stringify(body)),
  });
  const json = await response.json();
  if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${JSON.stringify(json)}`);
  return json.data;
}

async function account(role, i, type) {
  const session = await call('POST', '/api/v1/auth/register', {
    email: `artillery.${RUN}.${role}.${i}@example.dz`, password: PASSWORD, full_name: `Charge ${i}`, role,
  });
  const wallet = await call('POST', '/api/v1/wallets', { type, currency: 'DZD' }, session.token);
  return { token: session.token, wallet: wallet.id };
}

async function fund(customer) {
  const deposit = await call('POST', '/api/v1/deposits', { wallet_id: customer.wallet, amount: 10000000, method: 'cib' }, customer.token);
  const body = JSON.stringify({ deposit_id: deposit.id, provider_reference: `artillery-${deposit.id}`, status: 'succeeded' });
  await call('POST', '/api/v1/deposits/webhook', body, null, { 'x-contacto-signature': sign(body) });
}

// `before`: runs once; what it puts in context.vars every visit sees.
async function setup(context) {
  if (!SECRET) throw new Error('WEBHOOK_SECRET is needed to fund wallets');
  const customers = await Promise.all([...Array(CUSTOMERS).keys()].map(async (i) => {
    const customer = await account('customer', i, 'personal');
    await fund(customer);
    return customer;
  }));
  const merchants = await Promise.all([...Array(MERCHANTS).keys()].map((i) => account('merchant', i, 'business')));
  const professionals = [];
  for (let page = 1; page <= 10; page++) {
    const found = await call('GET', `/api/v1/professionals?limit=100&page=${page}`);
    found.items.forEach((hit) => professionals.push(hit.slug));
    if (found.items.length < 100) break;
  }
  if (professionals.length === 0) throw new Error('the directory is empty: seed it first');
  context.vars.customers = customers;
  context.vars.merchants = merchants.map((m) => m.wallet);
  context.vars.professionals = professionals;
}

function pick(list) {
  return list[Math.floor(Math.random() * list.length)];
}

async function pickQuery(context) {
  context.vars.query = pick(QUERIES);
}

async function pickProfessional(context) {
  context.vars.professional = encodeURIComponent(pick(context.vars.professionals));
}

async function pickCustomer(context) {
  const customers = context.vars.customers;
  const me = Math.floor(Math.random() * customers.length);
  const other = (me + 1 + Math.floor(Math.random() * Math.max(customers.length - 1, 1))) % customers.length;
  context.vars.me = me;
  context.vars.token = customers[me].token;
  context.vars.wallet = customers[me].wallet;
  context.vars.other_wallet = customers[other].wallet;
  context.vars.merchant = pick(context.vars.merchants);
  context.vars.key = crypto.randomUUID();
}

// A random customer and professional: Artillery's visits share no state, so a pair can repeat
// (a 409 REVIEW_EXISTS), rarely with many professionals.
async function pickReview(context) {
  await pickCustomer(context);
  await pickProfessional(context);
}

function signWebhook(requestParams, context, events, next) {
  const body = JSON.stringify({
    deposit_id: context.vars.deposit_id, provider_reference: `artillery-${context.vars.deposit_id}`, status: 'succeeded',
  });
  requestParams.body = body;
  delete requestParams.json;
  requestParams.headers = Object.assign({}, requestParams.headers, { 'x-contacto-signature': sign(body) });
  return next();
}

module.exports = { setup, pickQuery, pickProfessional, pickCustomer, pickReview, signWebhook };
