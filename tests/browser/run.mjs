// domainflow's browser test: GraphiQL and the operators' dashboard, driven in headless
// Chromium (Debian's /usr/bin/chromium) by playwright-core. Run by .ci/browser, which starts
// the server and makes the tokens; to run it by hand:
//
//   DOMAINFLOW_URL=http://127.0.0.1:PORT OPERATOR_TOKEN=... AUDITOR_TOKEN=... \
//   CUSTOMER_TOKEN=... SCREENSHOTS=target/ci-output/screenshots node tests/browser/run.mjs
//
// The server must run with `--graphql-introspection true` (GraphiQL's docs need the schema)
// and, for the dead letter, `--payment-timeout 1s --payment-provider-timeout 3s`
// (`tok_lateApproval` then outlives the payment deadline). CHROMIUM overrides the browser.
//
// Prints one `PASS ...` line per step. On the first failure it prints what was expected,
// what was last seen, the page's `#status` and text, saves SCREENSHOTS/failure.png and
// exits 1. Every wait gives up after 30 s.

import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium } from 'playwright-core';

const TIMEOUT_MS = 30_000;
const POLL_MS = 250;

function required(name) {
  const value = process.env[name];
  if (!value) {
    console.error(`run.mjs: the environment variable ${name} is not set`);
    process.exit(2);
  }
  return value;
}

const BASE = required('DOMAINFLOW_URL').replace(/\/+$/, '');
const OPERATOR_TOKEN = required('OPERATOR_TOKEN');
const AUDITOR_TOKEN = required('AUDITOR_TOKEN');
const CUSTOMER_TOKEN = required('CUSTOMER_TOKEN');
const SCREENSHOTS = resolve(required('SCREENSHOTS'));
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';

// Flags for a closed network: without the background-networking ones Chromium keeps
// trying to reach Google's hosts.
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** A failed expectation: what was expected, and what was seen instead. */
class Failure extends Error {
  constructor(expected, seen) {
    super(expected);
    this.expected = expected;
    this.seen = seen;
  }
}

let passed = 0;
let step = 'starting';
let page = null;
const pageErrors = [];

function pass(what) {
  passed += 1;
  console.log(`PASS ${what}`);
}

const sleep = (ms) => new Promise((done) => setTimeout(done, ms));

/** A CSS attribute selector part, `[name="value"]`, with the value quoted. */
const attr = (name, value) => `[${name}=${JSON.stringify(String(value))}]`;

/**
 * Polls `probe` until it answers something truthy, and answers that. `probe` may answer
 * `{ ok: false, seen }` to say what it saw; a thrown error counts as a miss (its message
 * is what was seen), unless it is a `Failure`, which ends the wait at once.
 */
async function until(expected, probe, timeoutMs = TIMEOUT_MS) {
  const deadline = Date.now() + timeoutMs;
  let seen = 'nothing yet';
  for (;;) {
    try {
      const answer = await probe();
      if (answer && !(typeof answer === 'object' && answer.ok === false)) {
        return answer;
      }
      if (answer && answer.seen !== undefined) {
        seen = answer.seen;
      }
    } catch (error) {
      if (error instanceof Failure) {
        throw error;
      }
      seen = error.message.split('\n')[0];
    }
    if (Date.now() >= deadline) {
      throw new Failure(`${expected} (within ${timeoutMs / 1000} s)`, seen);
    }
    await sleep(POLL_MS);
  }
}

/** The text of the first element `selector` matches, or null when there is none. */
async function textOf(selector) {
  const found = page.locator(selector).first();
  if ((await found.count()) === 0) {
    return null;
  }
  return (await found.innerText({ timeout: 2_000 })).trim();
}

/** The claims of a JWT (not verified: only to know whom the dashboard should name). */
function claims(token) {
  try {
    const payload = token.split('.')[1];
    return JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
  } catch {
    return {};
  }
}

/** One REST call from Node (not the page): answers `{ status, body }`. */
async function api(method, path, token, body, expectStatus) {
  const headers = { Authorization: `Bearer ${token}`, Accept: 'application/json' };
  if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
  }
  const response = await fetch(`${BASE}${path}`, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(TIMEOUT_MS),
  });
  const text = await response.text();
  let parsed = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // Not JSON: keep the text.
  }
  if (expectStatus !== undefined && response.status !== expectStatus) {
    throw new Failure(
      `${method} ${path} to answer ${expectStatus}`,
      `${response.status}: ${text.slice(0, 1000)}`,
    );
  }
  return { status: response.status, body: parsed };
}

// ---------------------------------------------------------------------------------------
// (a) GraphiQL: the docs explorer has the schema, shows Query and its field `orders`.

async function graphiql() {
  step = 'GraphiQL';
  const response = await page.goto(`${BASE}/graphql`, { waitUntil: 'load' });
  if (!response || response.status() !== 200) {
    throw new Failure('GET /graphql to answer 200 (GraphiQL)', response && response.status());
  }
  // GraphiQL 3.9's sidebar: one button per plugin, labelled "Show <title>" / "Hide <title>".
  const show = page.locator('.graphiql-sidebar button[aria-label="Show Documentation Explorer"]');
  const hide = page.locator('.graphiql-sidebar button[aria-label="Hide Documentation Explorer"]');
  await until('GraphiQL to render its sidebar with the Documentation Explorer button', async () =>
    (await show.count()) + (await hide.count()) > 0,
  );
  if ((await hide.count()) === 0) {
    await show.click();
  }
  const explorer = page.locator('section.graphiql-doc-explorer[aria-label="Documentation Explorer"]');
  await until('the Documentation Explorer to open', () => explorer.isVisible());
  pass('GraphiQL: the Documentation Explorer opens from the sidebar');

  // Until the introspection answers, the explorer shows a spinner (or "No GraphQL schema
  // available"); then the schema's root types, each a link to its type.
  const queryLink = explorer
    .locator('.graphiql-doc-explorer-content a.graphiql-doc-explorer-type-name')
    .filter({ hasText: /^Query$/ })
    .first();
  await until('the docs explorer to load the schema and list the root type Query', async () => {
    const error = explorer.locator('.graphiql-doc-explorer-error').first();
    if ((await error.count()) > 0) {
      const message = (await error.innerText()).trim();
      if (/Error fetching schema|Schema is invalid/.test(message)) {
        throw new Failure(
          'the docs explorer to load the schema (is the server run with --graphql-introspection true?)',
          message,
        );
      }
      return { ok: false, seen: message };
    }
    return queryLink.isVisible();
  });
  await queryLink.click();
  await until('the docs explorer to show the type Query', async () => {
    const title = await textOf('section.graphiql-doc-explorer .graphiql-doc-explorer-title');
    return title === 'Query' || { ok: false, seen: `title: ${title}` };
  });
  const orders = explorer
    .locator('.graphiql-doc-explorer-content a.graphiql-doc-explorer-field-name')
    .filter({ hasText: /^orders$/ });
  await until('Query to list the field `orders` in the docs explorer', async () =>
    (await orders.count()) === 1 || {
      ok: false,
      seen: `fields: ${(await explorer.locator('a.graphiql-doc-explorer-field-name').allInnerTexts()).join(', ')}`,
    },
  );
  await page.screenshot({ path: join(SCREENSHOTS, 'graphiql.png') });
  pass('GraphiQL: the docs explorer shows Query with the field orders (graphiql.png)');
}

// ---------------------------------------------------------------------------------------
// The dashboard.

const SECTIONS = ['#flow', '#orders-by-status', '#lag', '#sagas', '#dead-letters', '#low-stock'];

/**
 * Whether `selector`'s first element is rendered: present, and neither it nor an ancestor
 * `display: none` (the `hidden` attribute) or `visibility: hidden`. Unlike Playwright's
 * `isVisible`, an empty list (no size) still counts as shown.
 */
async function shown(selector) {
  return page.evaluate(
    (css) => {
      const element = document.querySelector(css);
      return element !== null && element.checkVisibility({ visibilityProperty: true });
    },
    selector,
  );
}

async function sectionsHidden() {
  for (const section of SECTIONS) {
    if (await shown(section)) {
      return { ok: false, seen: `${section} is shown` };
    }
  }
  return true;
}

async function signIn(token, label) {
  const { sub, role } = claims(token);
  await until('the sign-in form (input#token, button#sign-in-button)', async () =>
    (await page.locator('input#token').isVisible()) &&
    (await page.locator('button#sign-in-button').isVisible()),
  );
  await until('the dashboard sections to be hidden before sign-in', sectionsHidden);
  await page.locator('input#token').fill(token);
  await page.locator('button#sign-in-button').click();
  await until(`#who to name the ${label} (${sub}, ${role})`, async () => {
    const who = await textOf('#who');
    const has = (part) => !part || (who !== null && who.toLowerCase().includes(String(part).toLowerCase()));
    const named = who !== null && has(sub) && has(role);
    return named || { ok: false, seen: `#who: ${who}; #status: ${await textOf('#status')}` };
  });
  await until('the dashboard sections to show once signed in', async () => {
    for (const section of SECTIONS) {
      if (!(await shown(section))) {
        return { ok: false, seen: `${section} is not shown (missing or hidden)` };
      }
    }
    return true;
  });
  pass(`dashboard: signed in as the ${label}; #who names ${sub} (${role})`);
}

async function signOut() {
  await page.locator('button#sign-out').click();
  await until('the sign-in form back, the sections hidden, after sign-out', async () =>
    (await page.locator('input#token').isVisible()) && sectionsHidden(),
  );
  pass('dashboard: signed out; the sign-in form is back and the sections hidden');
}

/** The number in `selector`'s text, or null when it is absent or not a number. */
async function countIn(selector) {
  const text = await textOf(selector);
  if (text === null) {
    return null;
  }
  const number = Number.parseInt(text.replace(/[^0-9-]/g, ''), 10);
  return Number.isNaN(number) ? null : number;
}

/** A product of this run's own, low on stock from the start (quantity under threshold). */
let productSerial = 0;
const RUN = Date.now().toString(36);
async function registerProduct() {
  productSerial += 1;
  const sku = `BROWSER-${RUN}-${productSerial}`.toUpperCase();
  const { body } = await api(
    'POST',
    '/api/products',
    OPERATOR_TOKEN,
    {
      sku,
      name: `Browser test product ${productSerial}`,
      initialQuantity: 50,
      lowStockThreshold: 100,
      price: '12.50',
      currency: 'BRL',
    },
    201,
  );
  return { sku, streamId: body.id ?? sku };
}

async function placeOrder(sku, paymentToken) {
  const { body } = await api(
    'POST',
    '/api/orders',
    CUSTOMER_TOKEN,
    { currency: 'BRL', lines: [{ sku, quantity: 1, unitPrice: '12.50' }], paymentToken },
    202,
  );
  if (!body.orderId) {
    throw new Failure('POST /api/orders to answer an orderId', JSON.stringify(body));
  }
  return body.orderId;
}

const flowEvent = (streamId) => `#flow .event${attr('data-stream-id', streamId)}`;

async function flowSummary() {
  const events = await page.locator('#flow .event').evaluateAll((nodes) =>
    nodes.slice(0, 8).map((n) => `${n.dataset.streamType}/${n.dataset.streamId} ${n.dataset.eventType}`),
  );
  return `${await page.locator('#flow .event').count()} events; newest: ${events.join(' | ')}`;
}

// (b) Operator: lag, the live flow, an order confirmed, counted, low stock.
async function dashboardOperator() {
  step = 'dashboard (operator)';
  const response = await page.goto(`${BASE}/dashboard`, { waitUntil: 'load' });
  if (!response || response.status() !== 200) {
    throw new Failure('GET /dashboard to answer 200', response ? response.status() : 'no response');
  }
  await signIn(OPERATOR_TOKEN, 'operator');

  await until('#lag to list the projection orders with state, lag and a rebuild button, and fulfilment without one', async () => {
    const orders = page.locator(`#lag ${attr('data-name', 'orders')}`);
    const fulfilment = page.locator(`#lag ${attr('data-name', 'fulfilment')}`);
    const names = await page.locator('#lag [data-name]').evaluateAll((n) => n.map((e) => e.dataset.name));
    const seen = `#lag names: ${names.join(', ')}`;
    if ((await orders.count()) === 0 || (await fulfilment.count()) === 0) {
      return { ok: false, seen };
    }
    for (const part of ['.state', '.lag-events', '.lag-seconds']) {
      if ((await orders.locator(part).count()) === 0) {
        return { ok: false, seen: `${seen}; orders has no ${part}` };
      }
    }
    if ((await orders.locator('button.rebuild').count()) === 0) {
      return { ok: false, seen: `${seen}; orders has no button.rebuild` };
    }
    if ((await fulfilment.locator('button.rebuild').count()) !== 0) {
      return { ok: false, seen: `${seen}; fulfilment has a button.rebuild` };
    }
    return true;
  });
  pass(`dashboard: #lag lists the projections (orders: ${await textOf(`#lag ${attr('data-name', 'orders')} .state`)}) with rebuild buttons, fulfilment without`);

  // The live flow may only follow events appended after it subscribed: register products
  // until one shows up (the first normally does).
  const product = await until('a registered product\'s event to appear in #flow', async () => {
    const candidate = await registerProduct();
    const appeared = await until(
      `an event of the stream ${candidate.streamId} in #flow`,
      async () => (await page.locator(flowEvent(candidate.streamId)).count()) > 0,
      5_000,
    ).catch(() => false);
    return appeared ? candidate : { ok: false, seen: await flowSummary() };
  });
  pass(`dashboard: #flow shows the event of product ${product.sku} registered through the API`);

  const orderId = await placeOrder(product.sku, 'tok_visa');
  const orderEvent = page.locator(flowEvent(orderId)).first();
  await until(`an .event[data-stream-id="${orderId}"] in #flow`, async () =>
    (await orderEvent.count()) > 0 || { ok: false, seen: await flowSummary() },
  );
  const eventType = await orderEvent.getAttribute('data-event-type');
  const streamType = await orderEvent.getAttribute('data-stream-type');
  if (!eventType || !streamType) {
    throw new Failure(
      `the order's .event to carry data-stream-type and data-event-type`,
      await orderEvent.evaluate((n) => n.outerHTML.slice(0, 500)),
    );
  }
  // Newest first: the order was placed after the product was registered (the product's
  // stream has later events too, its reservations, so compare those two events).
  const order = await page.locator('#flow .event').evaluateAll(
    (nodes, ids) => [
      nodes.findIndex((n) => n.dataset.streamId === ids[0] && n.dataset.eventType === 'OrderPlaced'),
      nodes.findIndex((n) => n.dataset.streamId === ids[1] && n.dataset.eventType === 'ProductRegistered'),
    ],
    [orderId, product.streamId],
  );
  if (order[0] >= 0 && order[1] >= 0 && order[0] > order[1]) {
    throw new Failure('#flow newest first: OrderPlaced above ProductRegistered', await flowSummary());
  }
  pass(`dashboard: #flow shows order ${orderId} (${streamType} ${eventType}), newest first`);

  await until(`order ${orderId} to read CONFIRMED through GET /api/orders/{id}`, async () => {
    const { status, body } = await api('GET', `/api/orders/${orderId}`, CUSTOMER_TOKEN);
    const seen = `${status}: ${typeof body === 'object' ? `status ${body.status}` : body}`;
    if (status === 200 && body.status === 'CANCELLED') {
      throw new Failure(`order ${orderId} to be CONFIRMED`, JSON.stringify(body).slice(0, 1000));
    }
    return (status === 200 && body.status === 'CONFIRMED') || { ok: false, seen };
  });
  const confirmed = `#orders-by-status ${attr('data-status', 'CONFIRMED')} .count`;
  await until(`${confirmed} to be at least 1`, async () => {
    const count = await countIn(confirmed);
    return (count !== null && count >= 1) || {
      ok: false,
      seen: `count: ${await textOf(confirmed)}; #orders-by-status: ${await textOf('#orders-by-status')}`,
    };
  });
  pass(`dashboard: the order is CONFIRMED through the API and #orders-by-status counts ${await countIn(confirmed)} CONFIRMED`);

  const lowStock = `#low-stock ${attr('data-sku', product.sku)} .available`;
  await until(`${lowStock} to show a number`, async () =>
    (await countIn(lowStock)) !== null || { ok: false, seen: `#low-stock: ${await textOf('#low-stock')}` },
  );
  pass(`dashboard: #low-stock lists ${product.sku} with ${await countIn(lowStock)} available`);
  return product;
}

// (c) A payment the saga gave up on: its dead letter shows, is redriven, and goes.
async function deadLetter(product) {
  step = 'dashboard (dead letter)';
  const orderId = await placeOrder(product.sku, 'tok_lateApproval');
  const letter = await until(`a dead letter for order ${orderId} in GET /api/admin/dead-letters`, async () => {
    const { body } = await api('GET', '/api/admin/dead-letters?limit=100', OPERATOR_TOKEN, undefined, 200);
    const found = (body.items || []).find((item) => item.orderId === orderId);
    return found || { ok: false, seen: `${(body.items || []).length} letters, none for the order` };
  });
  const element = page.locator(`#dead-letters .dead-letter${attr('data-id', letter.id)}`);
  await until(`.dead-letter[data-id="${letter.id}"] with .action, .error and button.redrive in #dead-letters`, async () => {
    if ((await element.count()) === 0) {
      return { ok: false, seen: `#dead-letters: ${await textOf('#dead-letters')}` };
    }
    const action = await textOf(`#dead-letters .dead-letter${attr('data-id', letter.id)} .action`);
    const error = await textOf(`#dead-letters .dead-letter${attr('data-id', letter.id)} .error`);
    const buttons = await element.locator('button.redrive').count();
    const seen = `.action: ${action}; .error: ${error}; button.redrive: ${buttons}`;
    return (action !== null && action.includes(letter.action) && error !== null && buttons === 1) || { ok: false, seen };
  });
  pass(`dashboard: #dead-letters shows letter ${letter.id} (${letter.action}: ${letter.error})`);

  // A redrive before the provider has decided fails and the letter stays (the dashboard
  // shows the new error): click again, a few seconds apart, until it is gone.
  const redriven = Date.now();
  let clicks = 0;
  await until(`.dead-letter[data-id="${letter.id}"] to disappear after a redrive`, async () => {
    if ((await element.count()) === 0) {
      return true;
    }
    const button = element.locator('button.redrive');
    if (clicks === 0 || Date.now() - redriven > clicks * 5_000) {
      if ((await button.count()) > 0 && (await button.isEnabled())) {
        clicks += 1;
        await button.click({ timeout: 5_000 });
      }
    }
    return {
      ok: false,
      seen: `still there after ${clicks} click(s); .error: ${await textOf(`#dead-letters .dead-letter${attr('data-id', letter.id)} .error`)}; #status: ${await textOf('#status')}`,
    };
  });
  const { body } = await api('GET', '/api/admin/dead-letters?limit=100', OPERATOR_TOKEN, undefined, 200);
  if ((body.items || []).some((item) => item.id === letter.id)) {
    throw new Failure(`dead letter ${letter.id} to be gone from GET /api/admin/dead-letters too`, JSON.stringify(body).slice(0, 1000));
  }
  pass(`dashboard: redriving letter ${letter.id} removed it (${clicks} click(s))`);

  await page.screenshot({ path: join(SCREENSHOTS, 'dashboard.png'), fullPage: true });
  pass('dashboard: screenshot dashboard.png');
}

// (e) The auditor: reads, and no button that acts on the server.
async function dashboardAuditor() {
  step = 'dashboard (auditor)';
  await signOut();
  await signIn(AUDITOR_TOKEN, 'auditor');
  // Its data loaded (the orders confirmed before are counted), and one more refresh of
  // every list (2 s) gone by, before looking for buttons.
  const confirmed = `#orders-by-status ${attr('data-status', 'CONFIRMED')} .count`;
  await until(`${confirmed} to be at least 1 for the auditor`, async () => {
    const count = await countIn(confirmed);
    return (count !== null && count >= 1) || { ok: false, seen: `#orders-by-status: ${await textOf('#orders-by-status')}; #status: ${await textOf('#status')}` };
  });
  await sleep(2_500);
  // What the API refuses an auditor, the page says it cannot show.
  for (const section of ['#lag', '#dead-letters']) {
    const text = await textOf(section);
    if (!text || !text.includes('Not available: FORBIDDEN')) {
      throw new Failure(`${section} to say "Not available: FORBIDDEN" to the auditor`, text);
    }
  }
  const rebuild = await page.locator('button.rebuild').count();
  const redrive = await page.locator('button.redrive').count();
  if (rebuild !== 0 || redrive !== 0) {
    throw new Failure('no button.rebuild and no button.redrive for the auditor', `${rebuild} button.rebuild, ${redrive} button.redrive`);
  }
  await page.screenshot({ path: join(SCREENSHOTS, 'dashboard-auditor.png'), fullPage: true });
  pass('dashboard: the auditor sees no button.rebuild and no button.redrive (dashboard-auditor.png)');
}

// ---------------------------------------------------------------------------------------

async function report(error) {
  console.log(`FAIL ${step}`);
  if (error instanceof Failure) {
    console.log(`  expected: ${error.expected}`);
    console.log(`  last seen: ${error.seen}`);
  } else {
    console.log(`  error: ${error && error.stack ? error.stack : error}`);
  }
  if (page) {
    try {
      console.log(`  page: ${page.url()}`);
      const status = await page.locator('#status').first().innerText({ timeout: 2_000 }).catch(() => null);
      if (status !== null) {
        console.log(`  #status: ${status.trim()}`);
      }
      const text = await page.evaluate(() => (document.body ? document.body.innerText : ''));
      console.log('  page text:');
      for (const line of text.slice(0, 6_000).split('\n')) {
        console.log(`    ${line}`);
      }
    } catch (cause) {
      console.log(`  (could not read the page: ${cause.message.split('\n')[0]})`);
    }
    try {
      await page.screenshot({ path: join(SCREENSHOTS, 'failure.png'), fullPage: true, timeout: 10_000 });
      console.log(`  screenshot: ${join(SCREENSHOTS, 'failure.png')}`);
    } catch (cause) {
      console.log(`  (no screenshot: ${cause.message.split('\n')[0]})`);
    }
  }
  if (pageErrors.length > 0) {
    console.log('  the page\'s errors:');
    for (const line of pageErrors.slice(-20)) {
      console.log(`    ${line}`);
    }
  }
}

async function main() {
  await mkdir(SCREENSHOTS, { recursive: true });
  const profile = await mkdtemp(join(tmpdir(), 'domainflow-chromium-'));
  let context = null;
  let failed = false;
  try {
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: CHROMIUM_ARGS,
      viewport: { width: 1280, height: 900 },
      timeout: TIMEOUT_MS,
    });
    context.setDefaultTimeout(TIMEOUT_MS);
    context.setDefaultNavigationTimeout(TIMEOUT_MS);
    page = context.pages()[0] || (await context.newPage());
    page.on('pageerror', (error) => pageErrors.push(`pageerror: ${error.message}`));
    page.on('console', (message) => {
      if (message.type() === 'error') {
        pageErrors.push(`console: ${message.text()}`);
      }
    });
    // A confirmation before a rebuild or redrive is answered yes.
    page.on('dialog', (dialog) => dialog.accept().catch(() => {}));

    await graphiql();
    const product = await dashboardOperator();
    await deadLetter(product);
    await dashboardAuditor();
    step = 'the pages ran clean';
    // An uncaught exception or a blocked load (the content security policy) is a failure
    // even when every step above passed.
    const broken = pageErrors.filter((line) => line.startsWith('pageerror') || line.includes('Content Security Policy'));
    if (broken.length > 0) {
      throw new Failure('no uncaught exception and no content security policy violation', broken.join(' | '));
    }
    pass('the pages threw nothing and the content security policy blocked nothing');
  } catch (error) {
    failed = true;
    await report(error);
  } finally {
    if (context) {
      await context.close().catch(() => {});
    }
    await rm(profile, { recursive: true, force: true }).catch(() => {});
  }
  console.log(`browser: ${passed} passed, ${failed ? 1 : 0} failed`);
  process.exit(failed ? 1 : 0);
}

await main();
