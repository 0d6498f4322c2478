// The sales dashboard: the salesDashboard query once, then the
// salesDashboardChanged and orderChanges subscriptions, all over one
// graphql-ws connection to the api that served this page.
import { connect } from "./graphqlWs.js";
import { formatLag, LAG_LABEL, lagOfChange } from "./projectionLag.js";

const GRAPHQL_PATH = "/graphql";
const FEED_LENGTH = 25;
const DASHBOARD_FIELDS =
  "ordersByStatus { pending confirmed shipped cancelled } capturedRevenueMinor updatedAt position topProducts(limit: 5) { sku units }";
const ORDER_FIELDS = "eventType position order { orderId customerId status totalMinor currency updatedAt }";

const $ = (id) => document.getElementById(id);
let latestPosition = null; // of the dashboard shown, so an older answer never replaces a newer one
let connection = null;

/** A token from `#token=…` (kept out of server logs) or `?token=…`; none is needed in dev mode. */
function tokenFromUrl() {
  const fromHash = new URLSearchParams(location.hash.slice(1)).get("token");
  return fromHash ?? new URLSearchParams(location.search).get("token");
}

/** Log positions are `<transaction>.<position>`, both unsigned integers; compared as pairs. */
function isNewer(position, than) {
  if (than === null) return true;
  if (position === null) return false;
  const [a, b] = [position, than].map((p) => p.split(".").map(BigInt));
  return a[0] !== b[0] ? a[0] > b[0] : a[1] >= b[1];
}

function showDashboard(dashboard) {
  if (!isNewer(dashboard.position, latestPosition)) return false;
  latestPosition = dashboard.position;
  for (const status of ["pending", "confirmed", "shipped", "cancelled"]) {
    $(`count-${status}`).textContent = String(dashboard.ordersByStatus[status]);
  }
  $("revenue").textContent = (dashboard.capturedRevenueMinor / 100).toFixed(2);
  $("position").textContent = dashboard.position ?? "–";
  $("updated-at").textContent = dashboard.updatedAt ? new Date(dashboard.updatedAt).toLocaleString() : "–";
  $("top-products").replaceChildren(
    ...dashboard.topProducts.map(({ sku, units }) => element("li", {}, `${sku}: ${units} units`)),
  );
  return true;
}

function showOrderChange({ eventType, position, order }) {
  if (!order) return;
  const item = element(
    "li",
    { class: "new", "data-order-id": order.orderId, "data-position": position },
    element("span", {}, new Date(order.updatedAt).toLocaleTimeString()),
    element("span", {}, `${order.orderId} · ${order.customerId} · ${eventType}`),
    element("span", { class: `status status-${order.status}` }, order.status),
    element("span", {}, `${(order.totalMinor / 100).toFixed(2)} ${order.currency}`),
  );
  const feed = $("feed");
  feed.prepend(item);
  while (feed.children.length > FEED_LENGTH) feed.lastElementChild.remove();
  $("feed-empty").hidden = true;
}

/** Text only, never HTML: ids and customer names come from users. */
function element(tag, attributes, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value);
  node.append(...children);
  return node;
}

function showErrors(errors) {
  const state = $("connection");
  state.dataset.state = "closed";
  state.textContent = errors.map((e) => e.extensions?.code ?? e.message).join(", ");
}

function start(token) {
  connection?.close();
  $("token-form").hidden = true;
  connection = connect({
    url: new URL(GRAPHQL_PATH, location.href).href.replace(/^http/, "ws"),
    authorization: token ? `Bearer ${token}` : null,
    onState(state, detail) {
      const element = $("connection");
      element.dataset.state = state;
      element.textContent = detail ? `${state}: ${detail}` : state;
      if (state === "refused") {
        $("token-reason").textContent = `The api refused the connection (${detail}).`;
        $("token-form").hidden = false;
      }
    },
    // Subscriptions first: a change made while the query runs is then not missed.
    operations: {
      dashboardChanges: {
        query: `subscription DashboardChanges { salesDashboardChanged { ${DASHBOARD_FIELDS} } }`,
        onData(data, errors) {
          if (errors) return showErrors(errors);
          const received = Date.now();
          if (showDashboard(data.salesDashboardChanged)) {
            $("lag").textContent = formatLag(lagOfChange(data.salesDashboardChanged, received));
          }
        },
      },
      // Resent on every reconnect with the last position seen: the feed resumes with what the page missed.
      orderChanges: {
        query: `subscription OrderFeed($after: String) { orderChanges(after: $after) { ${ORDER_FIELDS} } }`,
        variables: { after: null },
        onData(data, errors) {
          if (errors) return showErrors(errors);
          this.variables.after = data.orderChanges.position;
          showOrderChange(data.orderChanges);
        },
      },
      dashboard: {
        query: `query Dashboard { salesDashboard { ${DASHBOARD_FIELDS} } }`,
        onData(data, errors) {
          if (errors) return showErrors(errors);
          showDashboard(data.salesDashboard);
        },
      },
    },
  });
}

$("lag-label").textContent = LAG_LABEL;
$("token-form").addEventListener("submit", (event) => {
  event.preventDefault();
  start($("token").value.trim());
});
start(tokenFromUrl());
