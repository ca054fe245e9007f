// The domainflow dashboard: signs in with a bearer token, follows the event log live over
// the GraphQL WebSocket (eventAppended), and reads the rest through GraphQL queries every
// two seconds. The server decides what each token may read and do; the page only hides the
// buttons an auditor could not use.
"use strict";

const REFRESH_MS = 2000;
const FLOW_LENGTH = 100;
const ORDER_STATUSES = ["PENDING", "CONFIRMED", "CANCELLED", "SHIPPED"];
const SAGA_PHASES = ["RESERVING", "PAYING", "CONFIRMING"];
const STORAGE_KEY = "domainflow.dashboard.token";

// `generation` changes at each sign-in and sign-out: an answer to an earlier session's
// request is dropped, never shown under the next one.
const session = { token: null, subject: null, role: null, socket: null, generation: 0 };

const $ = (selector) => document.querySelector(selector);

function element(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (name === "class") node.className = value;
    else if (name.startsWith("data-")) node.setAttribute(name, value);
    else node[name] = value;
  }
  for (const child of children) {
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

/// Shows `message` in the status line, as a failure unless `ok`.
function say(message, ok = false) {
  $("#status").textContent = message || "";
  $("#status").classList.toggle("ok", ok);
}

/// The claims of a JWT, or null when it is not one.
function claims(token) {
  const parts = token.split(".");
  if (parts.length !== 3) return null;
  try {
    const base64 = parts[1].replace(/-/g, "+").replace(/_/g, "/");
    return JSON.parse(atob(base64.padEnd(Math.ceil(base64.length / 4) * 4, "=")));
  } catch {
    return null;
  }
}

async function graphql(query, variables = {}) {
  const response = await fetch("/graphql", {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${session.token}` },
    body: JSON.stringify({ query, variables }),
  });
  let body;
  try {
    body = await response.json();
  } catch {
    throw new Error(`HTTP ${response.status}`);
  }
  if (body.errors && body.errors.length) {
    const error = body.errors[0];
    const code = (error.extensions && error.extensions.code) || `HTTP ${response.status}`;
    const failure = new Error(`${code}: ${error.message}`);
    failure.code = code;
    throw failure;
  }
  if (!response.ok) throw new Error(`HTTP ${response.status}`);
  return body.data;
}

function signIn(token) {
  const claimed = claims(token);
  if (!claimed) {
    say("That is not a bearer token (a JWT from `domainflow token` or your identity provider).");
    return;
  }
  if (!["operator", "auditor"].includes(claimed.role)) {
    say("The dashboard is for operators and auditors.");
    return;
  }
  Object.assign(session, { token, subject: claimed.sub, role: claimed.role });
  sessionStorage.setItem(STORAGE_KEY, token);
  $("#sign-in").hidden = true;
  $("#signed-in").hidden = false;
  $("#who").textContent = `${claimed.sub} (${claimed.role})`;
  $("#sections").hidden = false;
  say("");
  session.generation += 1;
  follow();
  poll(session.generation);
}

function signOut() {
  sessionStorage.removeItem(STORAGE_KEY);
  const socket = session.socket;
  Object.assign(session, { token: null, subject: null, role: null, socket: null });
  session.generation += 1;
  if (socket) socket.close(1000, "signed out");
  for (const id of ["#flow", "#orders-by-status", "#sagas", "#lag", "#dead-letters", "#low-stock"]) {
    $(id).replaceChildren();
  }
  $("#sections").hidden = true;
  $("#signed-in").hidden = true;
  $("#sign-in").hidden = false;
  $("#token").value = "";
  say("");
}

const operator = () => session.role === "operator";

// The live event flow: graphql-transport-ws, reconnecting while signed in.
function follow() {
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  const socket = new WebSocket(`${scheme}://${location.host}/graphql/ws`, "graphql-transport-ws");
  session.socket = socket;
  socket.onopen = () => {
    socket.send(JSON.stringify({ type: "connection_init", payload: { authorization: `Bearer ${session.token}` } }));
  };
  socket.onmessage = (message) => {
    const data = JSON.parse(message.data);
    if (data.type === "connection_ack") {
      socket.send(JSON.stringify({
        type: "subscribe",
        id: "flow",
        payload: { query: "subscription { eventAppended { position streamType streamId version eventType recordedAt } }" },
      }));
    } else if (data.type === "ping") {
      socket.send(JSON.stringify({ type: "pong" }));
    } else if (data.type === "next" && data.payload && data.payload.data) {
      appended(data.payload.data.eventAppended);
    } else if (data.type === "error") {
      say(`Event flow: ${JSON.stringify(data.payload)}`);
    }
  };
  socket.onclose = (event) => {
    if (session.socket !== socket) return;
    session.socket = null;
    if (!session.token) return;
    if (event.code === 4401 || event.code === 4403) {
      say("Your credentials ended; sign in again.");
      signOut();
      return;
    }
    say(`Event flow closed (${event.code}); reconnecting.`);
    setTimeout(() => session.token && !session.socket && follow(), REFRESH_MS);
  };
}

function appended(event) {
  const row = element(
    "li",
    {
      class: "event",
      "data-stream-type": event.streamType,
      "data-stream-id": event.streamId,
      "data-event-type": event.eventType,
      title: `position ${event.position}`,
    },
    `${event.recordedAt.slice(11, 23)} `,
    element("span", { class: "type" }, event.eventType),
    ` ${event.streamType}/${event.streamId} v${event.version}`,
  );
  const flow = $("#flow");
  flow.prepend(row);
  while (flow.children.length > FLOW_LENGTH) flow.lastChild.remove();
}

// Reads again two seconds after the last reading finished (never two at once), skipping
// while the tab is hidden, until the session ends.
async function poll(generation) {
  while (session.generation === generation) {
    if (!document.hidden) await refresh();
    await new Promise((resolve) => setTimeout(resolve, REFRESH_MS));
  }
}

// Each section reads on its own: one the token may not read says so, the others go on.
async function section(selector, load) {
  const generation = session.generation;
  let children;
  try {
    children = await load();
  } catch (error) {
    children = [element("span", { class: "empty" }, `Not available: ${error.message}`)];
  }
  if (session.generation === generation) $(selector).replaceChildren(...children);
}

function tallies(list, labels, attribute) {
  const counts = new Map(list.map((tally) => [tally.label, tally.count]));
  for (const label of counts.keys()) if (!labels.includes(label)) labels = [...labels, label];
  return labels.map((label) =>
    element("div", { [attribute]: label },
      element("span", { class: "label" }, label),
      element("span", { class: "count" }, counts.get(label) || 0)));
}

function refresh() {
  if (!session.token) return Promise.resolve();
  return Promise.all([
    section("#orders-by-status", async () => {
      const data = await graphql("{ orderCounts { label count } }");
      return tallies(data.orderCounts, ORDER_STATUSES, "data-status");
    }),
    section("#sagas", async () => {
      const data = await graphql("{ sagasInFlight { label count } }");
      return tallies(data.sagasInFlight, SAGA_PHASES, "data-phase");
    }),
    section("#lag", async () => {
      const data = await graphql("{ projections { name state error lagEvents lagSeconds rebuild { applied total } } }");
      return data.projections.map(lagRow);
    }),
    section("#dead-letters", async () => {
      const data = await graphql("{ deadLetters(first: 50) { edges { node { id orderId action error attempts } } } }");
      const rows = data.deadLetters.edges.map(({ node }) => deadLetterRow(node));
      return rows.length ? rows : [element("li", { class: "empty" }, "None.")];
    }),
    section("#low-stock", async () => {
      const data = await graphql("{ products(first: 50, lowStockOnly: true) { edges { node { sku name available lowStockThreshold } } } }");
      const rows = data.products.edges.map(({ node }) =>
        element("li", { "data-sku": node.sku },
          `${node.sku} (${node.name}): `,
          element("span", { class: "available" }, node.available),
          ` available, threshold ${node.lowStockThreshold}`));
      return rows.length ? rows : [element("li", { class: "empty" }, "None.")];
    }),
  ]);
}

function lagRow(projection) {
  const state = projection.rebuild
    ? `REBUILDING ${projection.rebuild.applied}/${projection.rebuild.total}`
    : projection.state;
  const action = element("td");
  if (operator() && projection.name !== "fulfilment") {
    const button = element("button", { class: "rebuild", type: "button" }, "Rebuild");
    button.disabled = Boolean(projection.rebuild);
    button.onclick = () => {
      if (!confirm(`Rebuild ${projection.name} from the whole event log? It keeps serving meanwhile.`)) return;
      act(button, "mutation($name: String!) { rebuildProjection(input: {name: $name}) { state } }", { name: projection.name }, `Rebuilding ${projection.name}.`);
    };
    action.append(button);
  }
  const row = element("tr", { class: projection.state, "data-name": projection.name },
    element("td", {}, projection.name),
    element("td", { class: "state", title: projection.error || "" }, state),
    element("td", { class: "lag-events" }, projection.lagEvents),
    element("td", { class: "lag-seconds" }, projection.lagSeconds.toFixed(1)),
    action);
  return row;
}

function deadLetterRow(letter) {
  const row = element("li", { class: "dead-letter", "data-id": letter.id },
    `#${letter.id} order ${letter.orderId}: `,
    element("span", { class: "action" }, letter.action),
    ` (${letter.attempts} attempts) `,
    element("span", { class: "error" }, letter.error));
  if (operator()) {
    const button = element("button", { class: "redrive", type: "button" }, "Redrive");
    button.onclick = () => act(button, "mutation($id: ID!) { retryDeadLetter(input: {id: $id}) { status error } }", { id: letter.id }, `Dead letter ${letter.id} redriven.`);
    row.append(" ", button);
  }
  return row;
}

async function act(button, mutation, variables, done) {
  button.disabled = true;
  try {
    const data = await graphql(mutation, variables);
    const result = data.retryDeadLetter;
    if (result && result.error) say(`Redrive failed again: ${result.error}`);
    else say(done, true);
  } catch (error) {
    say(error.message);
  } finally {
    refresh();
  }
}

$("#sign-in").addEventListener("submit", (event) => {
  event.preventDefault();
  signIn($("#token").value.trim());
});
$("#sign-out").addEventListener("click", signOut);
const kept = sessionStorage.getItem(STORAGE_KEY);
if (kept) signIn(kept);
