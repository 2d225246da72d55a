#!/usr/bin/env node
'use strict';
/*
 * A local stand-in for Shopify's Admin GraphQL API, limited to what an inventory
 * push touches (SKU lookup, locations, inventorySetQuantities / Activate / Adjust,
 * shop { name }).  It validates every document against the real introspection
 * schema of the requested API version, executes it for real over in-memory state,
 * charges query cost against a leaky bucket, and can inject transport faults.
 *
 *   node server.js --port 0 --specs DIR [--tls-cert F --tls-key F] [--token T] [--log FILE]
 *
 * Prints "LISTENING <port>" on stdout once ready and nothing else on stdout
 * afterwards (the test harness stops reading the pipe).  Listens on 127.0.0.1
 * only.  Exits on SIGTERM/SIGINT, and on its own when its parent process dies.
 *
 * Facts come from shared/specs/shopify.md; where that file is silent the shape
 * used here is an approximation and is marked "approximation" below.
 */

// graphql-js's development-mode instanceof checks cost a third of a 100k-item bulk read.
if (!process.env.NODE_ENV) process.env.NODE_ENV = 'production';
const fs = require('fs');
const http = require('http');
const https = require('https');
const path = require('path');
const zlib = require('zlib');
const crypto = require('crypto');
const {
  buildClientSchema, parse, validate, execute, GraphQLError, coerceInputValue,
  typeFromAST, getNamedType, isLeafType, Kind, getDirectiveValues, print,
} = require('graphql');
const { getArgumentValues } = require('graphql/execution/values');
const { BulkOps, bulkResolvers } = require('./bulk');
const { storeExtras } = require('./store_extras');
const { tokenizeSearch, termMatches } = require('./search');

// ---------------------------------------------------------------- arguments
function parseArgs(argv) {
  const out = { port: 0, specs: null, tlsCert: null, tlsKey: null, token: 'shpat_emulator_token' };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const next = () => {
      if (i + 1 >= argv.length) throw new Error(`missing value for ${a}`);
      return argv[++i];
    };
    if (a === '--port') out.port = Number(next());
    else if (a === '--specs') out.specs = next();
    else if (a === '--tls-cert') out.tlsCert = next();
    else if (a === '--tls-key') out.tlsKey = next();
    else if (a === '--token') out.token = next();
    else if (a === '--log') out.log = next();
    else throw new Error(`unknown argument ${a}`);
  }
  if (!out.specs) throw new Error('--specs <dir> is required');
  if (!!out.tlsCert !== !!out.tlsKey) throw new Error('--tls-cert and --tls-key go together');
  return out;
}

// ---------------------------------------------------------------- constants
const MAX_PAGE = 250;             // connection page size and input-array limit
const MAX_QUERY_COST = 1000;      // single query max cost (third-party sources)
const MUTATION_COST = 10;
const MAX_QUANTITY = 1000000000;
const SETTABLE_NAMES = new Set(['available', 'on_hand']);
const ADJUSTABLE_NAMES = new Set(['available', 'on_hand', 'damaged', 'quality_control', 'reserved', 'safety_stock', 'incoming']);
const QUANTITY_NAMES = ['available', 'on_hand', 'committed', 'reserved', 'incoming', 'damaged', 'safety_stock', 'quality_control'];
const REASONS = new Set(['correction', 'cycle_count_available', 'damaged', 'movement_canceled', 'movement_created',
  'movement_received', 'movement_updated', 'other', 'promotion', 'quality_control', 'received',
  'reservation_created', 'reservation_deleted', 'reservation_updated', 'restock', 'safety_stock', 'shrinkage']);
const DOC_CACHE_MAX = 2000;

// Version feature switches (versions are YYYY-MM strings, so string order is date order).
function features(version) {
  return {
    // A compare is required unless opted out: up to 2026-01 (COMPARE_QUANTITY_REQUIRED is
    // still in 2026-01's enum and ignoreCompareQuantity still defaults to false there).
    compareQuantityRules: version <= '2026-01',
    compareQuantityField: version <= '2026-01',   // field exists in the schema
    changeFrom: version >= '2026-01',             // changeFromQuantity exists, checked when non-null
    idempotentDirective: version >= '2026-01',
    strict2026_04: version >= '2026-04',          // @idempotent + explicit changeFromQuantity required
    setStocksItem: version >= '2026-10',          // ITEM_NOT_STOCKED_AT_LOCATION gone: set stocks it
  };
}

// ---------------------------------------------------------------- schemas
class Schemas {
  constructor(dir) {
    this.dir = dir;
    this.files = new Map();
    for (const f of fs.readdirSync(dir)) {
      const m = /^admin_(\d{4}-\d{2})\.introspection\.json\.gz$/.exec(f);
      if (m) this.files.set(m[1], path.join(dir, f));
    }
    if (!this.files.size) throw new Error(`no admin_<version>.introspection.json.gz in ${dir}`);
    this.cache = new Map();
  }
  has(version) { return this.files.has(version); }
  versions() { return [...this.files.keys()].sort(); }
  get(version) {
    let s = this.cache.get(version);
    if (!s) {
      const raw = JSON.parse(zlib.gunzipSync(fs.readFileSync(this.files.get(version))).toString('utf8'));
      s = buildClientSchema(raw.data || raw);
      this.cache.set(version, s);
    }
    return s;
  }
}

// ---------------------------------------------------------------- helpers
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
// Second resolution, computed once a second (seeding 100k items calls it ~600k times).
let isoCache = { sec: -1, text: '' };
const nowIso = () => {
  const sec = Math.floor(Date.now() / 1000);
  if (sec !== isoCache.sec) isoCache = { sec, text: new Date(sec * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z') };
  return isoCache.text;
};
const gidNum = (gid) => {
  const m = /^gid:\/\/shopify\/[A-Za-z]+\/(\d+)/.exec(String(gid));
  return m ? Number(m[1]) : NaN;
};
const round1 = (x) => Math.round(x * 10) / 10;

function mulberry32(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6D2B79F5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function stableStringify(v) {
  if (v === null || typeof v !== 'object') return JSON.stringify(v);
  if (Array.isArray(v)) return '[' + v.map(stableStringify).join(',') + ']';
  return '{' + Object.keys(v).sort().filter((k) => v[k] !== undefined)
    .map((k) => JSON.stringify(k) + ':' + stableStringify(v[k])).join(',') + '}';
}

function encodeCursor(id, value) {
  return Buffer.from(JSON.stringify({ last_id: id, last_value: value })).toString('base64');
}
function decodeCursor(c) {
  try {
    const o = JSON.parse(Buffer.from(String(c), 'base64').toString('utf8'));
    if (o && typeof o.last_id === 'number') return o;
  } catch (_) { /* fall through */ }
  return null;
}

// Top-level error (errors[] entry) raised from a resolver; graphql-js adds locations and path.
function topError(message, code, info, extra) {
  return new GraphQLError(message, {
    nodes: info ? info.fieldNodes : undefined,
    path: extra && extra.path,
    extensions: Object.assign({ code }, extra && extra.extensions),
  });
}

// ---------------------------------------------------------------- store
class Store {
  constructor() { this.reset(); }

  reset() {
    this.nextId = 1000001;
    this.locations = new Map();
    this.products = new Map();
    this.variants = new Map();
    this.items = new Map();
    this.levels = new Map();       // `${itemId}|${locId}` -> level
    this.levelsByItem = new Map(); // itemId -> [level] (reads of 100k-item shops stay linear)
    this.skuIndex = new Map();     // sku -> [variant ids]
    this.history = new Map();      // `${itemId}|${locId}|${name}` -> [{seq, quantity, at, idempotencyKey}]
    this.historySeq = 0;
    this.groupSeq = 0;
    this.idempotency = new Map();  // key -> {fingerprint, result}
  }

  newId(kind) { const n = this.nextId++; return { num: n, gid: `gid://shopify/${kind}/${n}` }; }

  addLocation(spec) {
    let id;
    if (spec.id != null) {
      const num = typeof spec.id === 'number' ? spec.id : gidNum(spec.id);
      if (!Number.isFinite(num)) throw new Error(`bad location id ${spec.id}`);
      id = { num, gid: `gid://shopify/Location/${num}` };
      if (num >= this.nextId) this.nextId = num + 1;
    } else id = this.newId('Location');
    const loc = {
      id: id.gid, num: id.num, name: String(spec.name || `Location ${id.num}`),
      isActive: spec.isActive !== false, fulfillsOnlineOrders: spec.fulfillsOnlineOrders !== false,
      createdAt: nowIso(), updatedAt: nowIso(),
    };
    this.locations.set(loc.id, loc);
    return loc;
  }

  resolveLocationRef(ref) {
    if (this.locations.has(ref)) return this.locations.get(ref);
    for (const l of this.locations.values()) if (l.name === ref) return l;
    const num = Number(ref);
    if (Number.isFinite(num)) return this.locations.get(`gid://shopify/Location/${num}`) || null;
    return null;
  }

  addProduct(spec) {
    const pid = this.newId('Product');
    const product = { id: pid.gid, num: pid.num, title: String(spec.title || `Product ${pid.num}`), variantIds: [],
      createdAt: nowIso(), updatedAt: nowIso() };
    this.products.set(product.id, product);
    const created = [];
    for (const vs of spec.variants || [{}]) {
      const vid = this.newId('ProductVariant');
      const iid = this.newId('InventoryItem');
      const sku = vs.sku == null ? null : String(vs.sku);
      const variant = { id: vid.gid, num: vid.num, sku, title: String(vs.title || sku || 'Default Title'),
        productId: product.id, inventoryItemId: iid.gid, createdAt: nowIso(), updatedAt: nowIso() };
      const item = { id: iid.gid, num: iid.num, sku, tracked: vs.tracked !== false, variantId: variant.id,
        createdAt: nowIso(), updatedAt: nowIso() };
      this.variants.set(variant.id, variant);
      this.items.set(item.id, item);
      product.variantIds.push(variant.id);
      if (sku !== null) {
        if (!this.skuIndex.has(sku)) this.skuIndex.set(sku, []);
        this.skuIndex.get(sku).push(variant.id);
      }
      for (const [ref, qty] of Object.entries(vs.levels || {})) {
        const loc = this.resolveLocationRef(ref);
        if (!loc) throw new Error(`seed: unknown location ${ref} for sku ${sku}`);
        const level = this.ensureLevel(item, loc);
        const q = Number(qty) | 0;
        level.q.available = q;
        level.q.on_hand = q;
      }
      created.push({ sku, variantId: variant.id, inventoryItemId: item.id, productId: product.id });
    }
    return created;
  }

  // The merchant edits a variant's SKU in the admin (the SKU moves to it or off it).
  renameSku(variantId, sku) {
    const variant = this.variants.get(variantId);
    if (!variant) throw new Error(`no variant ${variantId}`);
    if (variant.sku !== null) {
      const ids = (this.skuIndex.get(variant.sku) || []).filter((id) => id !== variant.id);
      if (ids.length) this.skuIndex.set(variant.sku, ids); else this.skuIndex.delete(variant.sku);
    }
    variant.sku = sku == null ? null : String(sku);
    this.items.get(variant.inventoryItemId).sku = variant.sku;
    if (variant.sku !== null) {
      if (!this.skuIndex.has(variant.sku)) this.skuIndex.set(variant.sku, []);
      this.skuIndex.get(variant.sku).push(variant.id);
    }
    variant.updatedAt = nowIso();
    return { sku: variant.sku, variantId: variant.id, inventoryItemId: variant.inventoryItemId };
  }

  itemLevels(itemId) { return this.levelsByItem.get(itemId) || []; }
  levelKey(itemId, locId) { return `${itemId}|${locId}`; }
  getLevel(itemId, locId) { return this.levels.get(this.levelKey(itemId, locId)) || null; }
  ensureLevel(item, loc) {
    const k = this.levelKey(item.id, loc.id);
    let level = this.levels.get(k);
    if (!level) {
      const q = {};
      for (const n of QUANTITY_NAMES) q[n] = 0;
      level = { id: `gid://shopify/InventoryLevel/${item.num}${loc.num}?inventory_item_id=${item.num}`,
        itemId: item.id, locationId: loc.id, q, createdAt: nowIso(), updatedAt: nowIso() };
      this.levels.set(k, level);
      if (!this.levelsByItem.has(item.id)) this.levelsByItem.set(item.id, []);
      this.levelsByItem.get(item.id).push(level);
    }
    return level;
  }

  record(itemId, locId, name, quantity, idempotencyKey, operation) {
    const k = `${itemId}|${locId}|${name}`;
    if (!this.history.has(k)) this.history.set(k, []);
    this.history.get(k).push({ seq: ++this.historySeq, quantity, at: Date.now(), idempotencyKey: idempotencyKey || null,
      operation });
  }

  // Sets `name` on a level; keeps on_hand and available moving together (on_hand =
  // available + the other states).  Returns the change rows for the payload.
  applyQuantity(level, name, target, idemKey, operation) {
    const delta = target - level.q[name];
    const out = [];
    if (delta === 0) {
      out.push({ name, delta: 0, quantityAfterChange: target });
    } else if (name === 'available' || name === 'on_hand') {
      level.q.available += delta;
      level.q.on_hand += delta;
      out.push({ name: 'available', delta, quantityAfterChange: level.q.available });
      out.push({ name: 'on_hand', delta, quantityAfterChange: level.q.on_hand });
      if (name === 'on_hand') out.reverse();
    } else {
      level.q[name] += delta;
      level.q.on_hand += delta;
      out.push({ name, delta, quantityAfterChange: level.q[name] });
      out.push({ name: 'on_hand', delta, quantityAfterChange: level.q.on_hand });
    }
    level.updatedAt = nowIso();
    for (const c of out) if (c.delta !== 0 || c.name === name) {
      this.record(level.itemId, level.locationId, c.name, c.quantityAfterChange, idemKey, operation);
    }
    return out.map((c) => Object.assign(c, { itemId: level.itemId, locationId: level.locationId }));
  }

  newGroup(reason, referenceDocumentUri, changes) {
    const n = ++this.groupSeq;
    return { id: `gid://shopify/InventoryAdjustmentGroup/${5000000 + n}`, createdAt: nowIso(), reason,
      referenceDocumentUri: referenceDocumentUri == null ? null : referenceDocumentUri, changes };
  }

  searchVariants(query) {
    const all = () => [...this.variants.values()];
    if (query == null || String(query).trim() === '') return all();
    const groups = tokenizeSearch(String(query));
    if (!groups.length) return all();
    const hit = new Map();
    for (const g of groups) {
      if (g.length === 1 && g[0].field === 'sku' && !g[0].neg && (g[0].quoted || !g[0].value.endsWith('*'))) {
        for (const id of this.skuIndex.get(g[0].value) || []) hit.set(id, this.variants.get(id));
        continue;
      }
      for (const v of this.variants.values()) {
        if (hit.has(v.id)) continue;
        const rec = { id: v.id, sku: v.sku, title: v.title };
        if (g.every((t) => termMatches(t, rec))) hit.set(v.id, v);
      }
    }
    return [...hit.values()].sort((a, b) => a.num - b.num);
  }

  snapshot() {
    const levels = {};
    const available = {};
    for (const level of this.levels.values()) {
      const item = this.items.get(level.itemId);
      const sku = item.sku == null ? item.id : item.sku;
      (levels[sku] = levels[sku] || {})[level.locationId] = Object.assign({}, level.q);
      (available[sku] = available[sku] || {})[level.locationId] = level.q.available;
    }
    const items = {};
    for (const item of this.items.values()) {
      const sku = item.sku == null ? item.id : item.sku;
      items[sku] = { inventoryItemId: item.id, variantId: item.variantId, tracked: item.tracked,
        productId: this.variants.get(item.variantId).productId };
    }
    return {
      available, levels, items,
      locations: [...this.locations.values()].map((l) => ({ id: l.id, name: l.name, isActive: l.isActive,
        fulfillsOnlineOrders: l.fulfillsOnlineOrders })),
    };
  }

  historyDump() {
    const entries = [];
    for (const [k, values] of this.history) {
      const [inventoryItemId, locationId, name] = k.split('|');
      const item = this.items.get(inventoryItemId);
      const loc = this.locations.get(locationId);
      entries.push({ inventoryItemId, locationId, name, sku: item ? item.sku : null, locationName: loc ? loc.name : null,
        values });
    }
    entries.sort((a, b) => a.values[0].seq - b.values[0].seq);
    return { entries };
  }
}

// ---------------------------------------------------------------- connections
function paginate(list, args, cursorValue, info) {
  const bulk = info && info.rootValue && info.rootValue.bulk;
  if (bulk) return bulkPage(list, bulk, info);
  const { first, last, after, before } = args;
  if (first == null && last == null) throw topError('you must provide one of first or last', 'BAD_REQUEST', info);
  if (first != null && last != null) throw topError('providing both first and last is not supported', 'BAD_REQUEST', info);
  let items = args.reverse ? list.slice().reverse() : list;
  const cut = (c, which) => {
    const d = decodeCursor(c);
    if (!d) throw topError('Invalid cursor for current pagination sort.', 'BAD_REQUEST', info);
    const idx = items.findIndex((x) => x.num === d.last_id);
    if (idx < 0) return which === 'after' ? [] : items;
    return which === 'after' ? items.slice(idx + 1) : items.slice(0, idx);
  };
  if (after != null) items = cut(after, 'after');
  if (before != null) items = cut(before, 'before');
  let page;
  let hasNextPage = false;
  let hasPreviousPage = false;
  if (first != null) {
    page = items.slice(0, first);
    hasNextPage = items.length > first;
    hasPreviousPage = after != null;
  } else {
    page = items.slice(Math.max(0, items.length - last));
    hasPreviousPage = items.length > last;
    hasNextPage = before != null;
  }
  const edges = page.map((node) => ({ cursor: encodeCursor(node.num, cursorValue(node)), node }));
  return {
    edges, nodes: page,
    pageInfo: {
      hasNextPage, hasPreviousPage,
      startCursor: edges.length ? edges[0].cursor : null,
      endCursor: edges.length ? edges[edges.length - 1].cursor : null,
    },
  };
}

// A bulk operation reads every node: the root connection one window at a
// time (bulk.start, bulk.size; bulk.total is reported back), nested ones whole.
function bulkPage(list, bulk, info) {
  let page = list;
  if (!info.path.prev) {
    bulk.total = list.length;
    page = list.slice(bulk.start, bulk.start + bulk.size);
  }
  return { edges: page.map((node) => ({ cursor: encodeCursor(node.num, String(node.num)), node })), nodes: page,
    pageInfo: { hasNextPage: false, hasPreviousPage: false, startCursor: null, endCursor: null } };
}

// ---------------------------------------------------------------- resolvers
// A bulk operation computes its root list once, not once per window.
function rootList(info, compute) {
  const bulk = info.rootValue && info.rootValue.bulk;
  if (!bulk || info.path.prev) return compute();
  if (!bulk.cache.list) bulk.cache.list = compute();
  return bulk.cache.list;
}
function idempotencyKeyOf(info) {
  const node = info.fieldNodes[0];
  const dir = (node.directives || []).find((d) => d.name.value === 'idempotent');
  if (!dir) return null;
  const def = info.schema.getDirective('idempotent');
  if (!def) return null;
  const vals = getDirectiveValues(def, node, info.variableValues);
  return vals && vals.key != null ? String(vals.key) : null;
}

// Runs `body` once per idempotency key: same key + same input replays the stored
// payload without applying again; same key + different input is a mismatch.
function withIdempotency(ctx, info, args, mismatch, body) {
  const f = ctx.features;
  const key = f.idempotentDirective ? idempotencyKeyOf(info) : null;
  ctx.idempotencyKey = key;
  if (f.strict2026_04 && key === null) {
    throw topError('The @idempotent directive is required for this mutation but was not provided.', 'BAD_REQUEST', info);
  }
  if (key === null) return body(null);
  const fingerprint = info.fieldName + ':' + stableStringify(args);
  const store = ctx.store;
  const prior = store.idempotency.get(key);
  if (prior) {
    if (prior.fingerprint !== fingerprint) return mismatch();
    ctx.replayed = true;
    return prior.result;
  }
  const result = body(key);
  store.idempotency.set(key, { fingerprint, result });
  return result;
}

// Checks shared by the inventory mutations' input arrays: Shopify's 250-element
// limit, and from 2026-04 an explicit changeFromQuantity on every element.
function checkInventoryArray(items, field, typeName, f, info) {
  if (items.length > MAX_PAGE) {
    throw topError(`The input array size of ${items.length} is greater than the maximum allowed of ${MAX_PAGE}.`,
      'MAX_INPUT_SIZE_EXCEEDED', info, { path: [info.path.key, 'input', field] });
  }
  if (f.strict2026_04 && items.some((q) => !Object.prototype.hasOwnProperty.call(q, 'changeFromQuantity'))) {
    throw topError(`${typeName} must include the following argument: changeFromQuantity.`,
      'INVALID_FIELD_ARGUMENTS', info);
  }
}

const idempotencyMismatch = () => ({ inventoryAdjustmentGroup: null, userErrors: [{
  code: 'IDEMPOTENCY_KEY_PARAMETER_MISMATCH', field: ['idempotent', 'key'],
  message: 'The idempotency key was already used with different parameters.' }] });

function inventorySetQuantities(_src, args, ctx, info) {
  const f = ctx.features;
  const input = args.input;
  const qs = input.quantities;
  checkInventoryArray(qs, 'quantities', 'InventoryQuantityInput', f, info);
  return withIdempotency(ctx, info, args, idempotencyMismatch, (key) => {
    const store = ctx.store;
    const errors = [];
    const err = (code, field, message) => errors.push({ code, field, message });
    if (!SETTABLE_NAMES.has(input.name)) {
      err('INVALID_NAME', ['input', 'name'], "The quantity name must be either 'available' or 'on_hand'.");
    }
    if (!REASONS.has(input.reason)) err('INVALID_REASON', ['input', 'reason'], 'The specified reason is invalid.');
    if (input.referenceDocumentUri != null && !/^[A-Za-z][A-Za-z0-9+.-]*:\S+$/.test(input.referenceDocumentUri)) {
      err('INVALID_REFERENCE_DOCUMENT', ['input', 'referenceDocumentUri'], 'The reference document URI is invalid.');
    }
    const ignoreCompare = input.ignoreCompareQuantity === true;
    const seen = new Set();
    const plan = [];
    qs.forEach((q, i) => {
      const p = ['input', 'quantities', String(i)];
      const item = store.items.get(q.inventoryItemId);
      const loc = store.locations.get(q.locationId);
      const pair = `${q.inventoryItemId}|${q.locationId}`;
      if (seen.has(pair)) {
        err('NO_DUPLICATE_INVENTORY_ITEM_ID_GROUP_ID_PAIR', p,
          'The combination of inventoryItemId and locationId must be unique.');
        return;
      }
      seen.add(pair);
      if (!item) { err('INVALID_INVENTORY_ITEM', p.concat('inventoryItemId'), 'The specified inventory item could not be found.'); return; }
      if (!loc) { err('INVALID_LOCATION', p.concat('locationId'), 'The specified location could not be found.'); return; }
      if (q.quantity < 0) { err('INVALID_QUANTITY_NEGATIVE', p.concat('quantity'), "The quantity can't be negative."); return; }
      if (q.quantity > MAX_QUANTITY) {
        err('INVALID_QUANTITY_TOO_HIGH', p.concat('quantity'), "The quantity can't be higher than 1,000,000,000."); return;
      }
      const level = store.getLevel(item.id, loc.id);
      if (!level && !f.setStocksItem) {
        err('ITEM_NOT_STOCKED_AT_LOCATION', p.concat('locationId'), 'The inventory item is not stocked at the location.');
        return;
      }
      const current = level && SETTABLE_NAMES.has(input.name) ? level.q[input.name] : 0;
      // 2026-01's schema: "opt out by explicitly passing in a null value to changeFromQuantity".
      const explicitChangeFrom = f.changeFrom && Object.prototype.hasOwnProperty.call(q, 'changeFromQuantity');
      if (f.compareQuantityRules && !ignoreCompare && !explicitChangeFrom) {
        if (q.compareQuantity == null) {
          err('COMPARE_QUANTITY_REQUIRED', p.concat('compareQuantity'),
            'The compareQuantity argument must be given to each quantity or ignored using ignoreCompareQuantity.');
          return;
        }
      }
      if (f.compareQuantityField && !ignoreCompare && q.compareQuantity != null && q.compareQuantity !== current) {
        err('COMPARE_QUANTITY_STALE', p.concat('compareQuantity'), 'The compareQuantity value does not match persisted value.');
        return;
      }
      if (f.changeFrom && q.changeFromQuantity != null && q.changeFromQuantity !== current) {
        err('CHANGE_FROM_QUANTITY_STALE', p.concat('changeFromQuantity'),
          'The changeFromQuantity value does not match persisted value.');
        return;
      }
      plan.push({ item, loc, quantity: q.quantity });
    });
    if (errors.length) return { inventoryAdjustmentGroup: null, userErrors: errors };
    const changes = [];
    for (const step of plan) {
      const level = store.ensureLevel(step.item, step.loc);
      for (const c of store.applyQuantity(level, input.name, step.quantity, key, 'inventorySetQuantities')) changes.push(c);
    }
    ctx.applied = plan.length;
    return { inventoryAdjustmentGroup: store.newGroup(input.reason, input.referenceDocumentUri, changes), userErrors: [] };
  });
}

function inventoryAdjustQuantities(_src, args, ctx, info) {
  const f = ctx.features;
  const input = args.input;
  const cs = input.changes;
  // Third-party reports from live 2026-04+ shops: adjust has the same two requirements as set.
  checkInventoryArray(cs, 'changes', 'InventoryChangeInput', f, info);
  return withIdempotency(ctx, info, args, idempotencyMismatch, (key) => {
    const store = ctx.store;
    const errors = [];
    const err = (code, field, message) => errors.push({ code, field, message });
    if (!ADJUSTABLE_NAMES.has(input.name)) err('INVALID_QUANTITY_NAME', ['input', 'name'], 'The quantity name is invalid.');
    if (!REASONS.has(input.reason)) err('INVALID_REASON', ['input', 'reason'], 'The specified reason is invalid.');
    const plan = [];
    cs.forEach((c, i) => {
      const p = ['input', 'changes', String(i)];
      const item = store.items.get(c.inventoryItemId);
      const loc = store.locations.get(c.locationId);
      if (!item) { err('INVALID_INVENTORY_ITEM', p.concat('inventoryItemId'), 'The specified inventory item could not be found.'); return; }
      if (!loc) { err('INVALID_LOCATION', p.concat('locationId'), 'The specified location could not be found.'); return; }
      const level = store.getLevel(item.id, loc.id);
      if (!level) { err('ITEM_NOT_STOCKED_AT_LOCATION', p.concat('locationId'), 'The inventory item is not stocked at the location.'); return; }
      const current = ADJUSTABLE_NAMES.has(input.name) ? level.q[input.name] : 0;
      if (f.changeFrom && c.changeFromQuantity != null && c.changeFromQuantity !== current) {
        err('CHANGE_FROM_QUANTITY_STALE', p.concat('changeFromQuantity'), 'The changeFromQuantity value does not match persisted value.');
        return;
      }
      if (Math.abs(current + c.delta) > MAX_QUANTITY) {
        err(current + c.delta > 0 ? 'INVALID_QUANTITY_TOO_HIGH' : 'INVALID_QUANTITY_TOO_LOW', p.concat('delta'),
          'The resulting quantity is out of range.');
        return;
      }
      plan.push({ level, delta: c.delta, current });
    });
    if (errors.length) return { inventoryAdjustmentGroup: null, userErrors: errors };
    const changes = [];
    for (const step of plan) {
      const target = step.level.q[input.name] + step.delta;
      for (const ch of store.applyQuantity(step.level, input.name, target, key, 'inventoryAdjustQuantities')) changes.push(ch);
    }
    ctx.applied = plan.length;
    return { inventoryAdjustmentGroup: store.newGroup(input.reason, input.referenceDocumentUri, changes), userErrors: [] };
  });
}

function inventoryActivate(_src, args, ctx, info) {
  const mismatch = () => ({ inventoryLevel: null, userErrors: [{ field: ['idempotent', 'key'],
    message: 'The idempotency key was already used with different parameters.' }] });
  return withIdempotency(ctx, info, args, mismatch, (key) => {
    const store = ctx.store;
    const item = store.items.get(args.inventoryItemId);
    const loc = store.locations.get(args.locationId);
    if (!item) return { inventoryLevel: null, userErrors: [{ field: ['inventoryItemId'], message: 'Inventory item does not exist' }] };
    if (!loc) return { inventoryLevel: null, userErrors: [{ field: ['locationId'], message: 'Location does not exist' }] };
    const existing = store.getLevel(item.id, loc.id);
    if (existing) {
      if (args.available != null || args.onHand != null) {
        return { inventoryLevel: null, userErrors: [{ field: [args.available != null ? 'available' : 'onHand'],
          message: 'Not allowed to set available quantity when the item is already active at the location.' }] };
      }
      return { inventoryLevel: existing, userErrors: [] };
    }
    if ((args.available != null && args.available < 0) || (args.onHand != null && args.onHand < 0)) {
      return { inventoryLevel: null, userErrors: [{ field: [args.available != null ? 'available' : 'onHand'],
        message: "Quantity can't be negative" }] };
    }
    const level = store.ensureLevel(item, loc);
    if (args.onHand != null) store.applyQuantity(level, 'on_hand', args.onHand, key, 'inventoryActivate');
    else store.applyQuantity(level, 'available', args.available == null ? 0 : args.available, key, 'inventoryActivate');
    ctx.applied = 1;
    return { inventoryLevel: level, userErrors: [] };
  });
}

function levelQuantities(level, names) {
  return names.filter((n) => Object.prototype.hasOwnProperty.call(level.q, n)).map((n) => ({
    id: `gid://shopify/InventoryQuantity/${gidNum(level.id)}?inventory_item_id=${gidNum(level.itemId)}&name=${n}`,
    name: n, quantity: level.q[n], updatedAt: level.updatedAt,
  }));
}

const RESOLVERS = {
  'QueryRoot.shop': (_s, _a, ctx) => ctx.shop,
  'QueryRoot.productVariants': (_s, args, ctx, info) =>
    paginate(rootList(info, () => ctx.store.searchVariants(args.query)), args, (v) => String(v.num), info),
  'QueryRoot.productVariant': (_s, args, ctx) => ctx.store.variants.get(args.id) || null,
  'QueryRoot.inventoryItems': (_s, args, ctx, info) => {
    const items = rootList(info, () => ctx.store.searchVariants(args.query).map((v) => ctx.store.items.get(v.inventoryItemId))
      .sort((a, b) => a.num - b.num));
    return paginate(items, args, (i) => String(i.num), info);
  },
  'QueryRoot.inventoryItem': (_s, args, ctx) => ctx.store.items.get(args.id) || null,
  'QueryRoot.locations': (_s, args, ctx, info) => {
    let locs = [...ctx.store.locations.values()];
    if (!args.includeInactive) locs = locs.filter((l) => l.isActive);
    if (args.query) {
      const groups = tokenizeSearch(String(args.query));
      locs = locs.filter((l) => groups.some((g) => g.every((t) => termMatches(t, { id: l.id, sku: null, title: l.name }))));
    }
    locs.sort((a, b) => (args.sortKey === 'ID' ? a.num - b.num : a.name < b.name ? -1 : a.name > b.name ? 1 : a.num - b.num));
    return paginate(locs, args, (l) => (args.sortKey === 'ID' ? String(l.num) : l.name), info);
  },
  'QueryRoot.location': (_s, args, ctx) => {
    if (args.id == null) return [...ctx.store.locations.values()][0] || null;
    return ctx.store.locations.get(args.id) || null;
  },
  ...bulkResolvers(),
  'QueryRoot.bulkOperations': (_s, args, ctx, info) => paginate(ctx.emu.bulk.list(args), args, (o) => String(o.num), info),

  'Mutation.inventorySetQuantities': inventorySetQuantities,
  'Mutation.inventoryAdjustQuantities': inventoryAdjustQuantities,
  'Mutation.inventoryActivate': inventoryActivate,
  // Bulk operations are not emulated; the sidecar uses synchronous 250-item calls.
  'Mutation.stagedUploadsCreate': () => ({ stagedTargets: [], userErrors: [{ field: ['input'],
    message: 'Staged uploads are not supported by the stockrelay Shopify emulator.' }] }),
  'Mutation.bulkOperationRunMutation': () => ({ bulkOperation: null, userErrors: [{ code: 'NO_SUCH_FILE',
    field: ['stagedUploadPath'], message: 'Bulk operations are not supported by the stockrelay Shopify emulator.' }] }),

  'ProductVariant.inventoryItem': (v, _a, ctx) => ctx.store.items.get(v.inventoryItemId),
  'ProductVariant.product': (v, _a, ctx) => ctx.store.products.get(v.productId),
  'ProductVariant.displayName': (v, _a, ctx) => `${ctx.store.products.get(v.productId).title} - ${v.title}`,
  'ProductVariant.legacyResourceId': (v) => String(v.num),
  'ProductVariant.inventoryPolicy': () => 'DENY',
  'ProductVariant.inventoryQuantity': (v, _a, ctx) => {
    let sum = 0;
    for (const l of ctx.store.itemLevels(v.inventoryItemId)) sum += l.q.available;
    return sum;
  },
  'Product.legacyResourceId': (p) => String(p.num),
  'Product.handle': (p) => p.title.toLowerCase().replace(/[^a-z0-9]+/g, '-'),
  'Product.variants': (p, args, ctx, info) =>
    paginate(p.variantIds.map((id) => ctx.store.variants.get(id)), args, (v) => String(v.num), info),

  'InventoryItem.inventoryLevel': (item, args, ctx) => ctx.store.getLevel(item.id, args.locationId),
  'InventoryItem.inventoryLevels': (item, args, ctx, info) => {
    const levels = ctx.store.itemLevels(item.id)
      .map((l) => Object.assign(Object.create(l), { num: gidNum(l.locationId) })).sort((a, b) => a.num - b.num);
    return paginate(levels, args, (l) => String(l.num), info);
  },
  'InventoryItem.variant': (item, _a, ctx) => ctx.store.variants.get(item.variantId),
  'InventoryItem.variants': (item, args, ctx, info) =>
    paginate([ctx.store.variants.get(item.variantId)], args, (v) => String(v.num), info),
  'InventoryItem.duplicateSkuCount': (item, _a, ctx) =>
    item.sku == null ? 0 : (ctx.store.skuIndex.get(item.sku) || []).length - 1,
  'InventoryItem.legacyResourceId': (i) => String(i.num),
  'InventoryItem.requiresShipping': () => true,
  'InventoryItem.locationsCount': (item, _a, ctx) => {
    return { count: ctx.store.itemLevels(item.id).length, precision: 'EXACT' };
  },

  'InventoryLevel.item': (l, _a, ctx) => ctx.store.items.get(l.itemId),
  'InventoryLevel.location': (l, _a, ctx) => ctx.store.locations.get(l.locationId),
  'InventoryLevel.quantities': (l, args) => levelQuantities(l, args.names),
  'InventoryLevel.canDeactivate': () => true,
  'InventoryLevel.isActive': () => true,

  'Location.legacyResourceId': (l) => String(l.num),
  'Location.inventoryLevel': (loc, args, ctx) => ctx.store.getLevel(args.inventoryItemId, loc.id),
  'Location.activatable': (l) => !l.isActive,
  'Location.deactivatable': (l) => l.isActive,
  'Location.isFulfillmentService': () => false,
  'Location.shipsInventory': (l) => l.fulfillsOnlineOrders,
  'Location.hasActiveInventory': (loc, _a, ctx) => {
    for (const l of ctx.store.levels.values()) if (l.locationId === loc.id) return true;
    return false;
  },

  'InventoryAdjustmentGroup.changes': (g, args) => g.changes.filter((c) =>
    (!args.inventoryItemIds || args.inventoryItemIds.includes(c.itemId))
    && (!args.locationIds || args.locationIds.includes(c.locationId))
    && (!args.quantityNames || args.quantityNames.includes(c.name))),
  'InventoryChange.item': (c, _a, ctx) => ctx.store.items.get(c.itemId),
  'InventoryChange.location': (c, _a, ctx) => ctx.store.locations.get(c.locationId),
  'InventoryChange.ledgerDocumentUri': () => null,
};

function fieldResolver(source, args, ctx, info) {
  const r = RESOLVERS[info.parentType.name + '.' + info.fieldName];
  if (r) return r(source, args, ctx, info);
  if (source == null) return undefined;
  const v = source[info.fieldName];
  return typeof v === 'function' ? v.call(source, args, ctx, info) : v;
}

// ---------------------------------------------------------------- Shopify-style errors
// graphql-js validation messages rewritten the way Shopify's (graphql-ruby) stack
// words them; approximation for anything not listed.
function opLabel(op) {
  return op ? `${op.operation}${op.name ? ' ' + op.name.value : ''}` : 'query';
}

function nodePaths(document) {
  const paths = new Map();
  const fragments = {};
  for (const d of document.definitions) if (d.kind === Kind.FRAGMENT_DEFINITION) fragments[d.name.value] = d;
  const walkSel = (sel, prefix) => {
    if (!sel) return;
    for (const s of sel.selections) {
      if (s.kind === Kind.FIELD) {
        const p = prefix.concat(s.name.value);
        paths.set(s, p);
        for (const a of s.arguments || []) paths.set(a, p.concat(a.name.value));
        for (const d of s.directives || []) paths.set(d, p);
        walkSel(s.selectionSet, p);
      } else if (s.kind === Kind.INLINE_FRAGMENT) {
        const p = prefix.concat(`... on ${s.typeCondition ? s.typeCondition.name.value : ''}`.trim());
        paths.set(s, p);
        walkSel(s.selectionSet, p);
      } else if (s.kind === Kind.FRAGMENT_SPREAD) {
        paths.set(s, prefix.concat(`... ${s.name.value}`));
      }
    }
  };
  for (const d of document.definitions) {
    if (d.kind === Kind.OPERATION_DEFINITION) {
      const p = [opLabel(d)];
      paths.set(d, p);
      for (const v of d.variableDefinitions || []) paths.set(v, p);
      for (const dir of d.directives || []) paths.set(dir, p);
      walkSel(d.selectionSet, p);
    } else if (d.kind === Kind.FRAGMENT_DEFINITION) {
      const p = [`fragment ${d.name.value}`];
      paths.set(d, p);
      walkSel(d.selectionSet, p);
    }
  }
  return paths;
}

function shopifyValidationError(e, paths) {
  const msg = e.message;
  let m;
  let message = msg;
  let ext = { code: 'undefinedField' };
  if ((m = /^Cannot query field "([^"]+)" on type "([^"]+)"/.exec(msg))) {
    message = `Field '${m[1]}' doesn't exist on type '${m[2]}'`;
    ext = { code: 'undefinedField', typeName: m[2], fieldName: m[1] };
  } else if ((m = /^Unknown argument "([^"]+)" on field "([^".]+)\.([^"]+)"/.exec(msg))) {
    message = `Field '${m[3]}' doesn't accept argument '${m[1]}'`;
    ext = { code: 'argumentNotAccepted', name: m[3], typeName: 'Field', argumentName: m[1] };
  } else if ((m = /^Unknown argument "([^"]+)" on directive "@([^"]+)"/.exec(msg))) {
    message = `Directive '${m[2]}' doesn't accept argument '${m[1]}'`;
    ext = { code: 'argumentNotAccepted', name: m[2], typeName: 'Directive', argumentName: m[1] };
  } else if ((m = /^Unknown directive "@([^"]+)"/.exec(msg))) {
    message = `Directive @${m[1]} is not defined`;
    ext = { code: 'undefinedDirective', directiveName: m[1] };
  } else if ((m = /^Directive "@([^"]+)" may not be used on ([A-Z_]+)/.exec(msg))) {
    const where = { QUERY: 'queries', MUTATION: 'mutations', SUBSCRIPTION: 'subscriptions', FRAGMENT_DEFINITION: 'fragment definitions',
      FRAGMENT_SPREAD: 'fragment spreads', INLINE_FRAGMENT: 'inline fragments', FIELD: 'fields', VARIABLE_DEFINITION: 'variable definitions' }[m[2]] || m[2];
    message = `'@${m[1]}' can't be applied to ${where} (allowed: fields)`;
    ext = { code: 'directiveCannotBeApplied', targetName: where, name: m[1] };
  } else if ((m = /^Directive "@([^"]+)" argument "([^"]+)" of type "[^"]+" is required/.exec(msg))) {
    message = `Directive '${m[1]}' is missing required arguments: ${m[2]}`;
    ext = { code: 'missingRequiredArguments', className: 'Directive', name: m[1], arguments: m[2] };
  } else if ((m = /^Field "([^"]+)" argument "([^"]+)" of type "[^"]+" is required/.exec(msg))) {
    message = `Field '${m[1]}' is missing required arguments: ${m[2]}`;
    ext = { code: 'missingRequiredArguments', className: 'Field', name: m[1], arguments: m[2] };
  } else if ((m = /^Unknown type "([^"]+)"/.exec(msg))) {
    message = `${m[1]} isn't a defined input type`;
    ext = { code: 'variableRequiresValidType', typeName: m[1] };
  } else if ((m = /^Variable "\$([^"]+)" of type "([^"]+)" used in position expecting type "([^"]+)"/.exec(msg))) {
    const nullability = m[2].replace(/!/g, '') === m[3].replace(/!/g, '');
    message = `${nullability ? 'Nullability' : 'Type'} mismatch on variable $${m[1]} (${m[2]} / ${m[3]})`;
    ext = { code: 'variableMismatch', variableName: m[1], typeName: m[2] };
  } else if ((m = /^Variable "\$([^"]+)" is never used(?: in operation "([^"]+)")?/.exec(msg))) {
    message = `Variable $${m[1]} is declared by ${m[2] || 'anonymous query'} but not used`;
    ext = { code: 'variableNotUsed', variableName: m[1] };
  } else if ((m = /^Variable "\$([^"]+)" is not defined(?: by operation "([^"]+)")?/.exec(msg))) {
    message = `Variable $${m[1]} is used by ${m[2] || 'anonymous query'} but not declared`;
    ext = { code: 'variableNotDefined', variableName: m[1] };
  } else if ((m = /^Field "([^"]+)" of type "([^"]+)" must have a selection of subfields/.exec(msg))) {
    message = `Field must have selections (field '${m[1]}' returns ${m[2].replace(/[![\]]/g, '')} but has no selections. Did you mean '${m[1]} { ... }'?)`;
    ext = { code: 'selectionMismatch', nodeName: m[1], typeName: m[2].replace(/[![\]]/g, '') };
  } else if ((m = /^Field "([^"]+)" must not have a selection since type "([^"]+)" has no subfields/.exec(msg))) {
    message = `Selections can't be made on scalars (field '${m[1]}' returns ${m[2]} but has selections)`;
    ext = { code: 'selectionMismatch', nodeName: m[1], typeName: m[2] };
  } else if (/cannot represent|Expected value of type|is not defined by type|was not provided|Enum "/.test(msg)) {
    message = `Argument has an invalid value: ${msg}`;
    ext = { code: 'argumentLiteralsIncompatible', typeName: 'Argument' };
  } else if ((m = /^There can be only one (?:operation|fragment) named "([^"]+)"/.exec(msg))) {
    message = `Operation name "${m[1]}" must be unique`;
    ext = { code: 'uniquelyNamedOperations', operationName: m[1] };
  } else {
    ext = { code: 'validationError' };
  }
  const out = { message };
  if (e.locations) out.locations = e.locations;
  const node = e.nodes && e.nodes[0];
  const p = node && paths.get(node);
  if (p) out.path = p;
  out.extensions = ext;
  return out;
}

function syntaxError(e) {
  const loc = e.locations && e.locations[0];
  const detail = e.message.replace(/^Syntax Error: /, '');
  return {
    message: `syntax error, ${detail}${loc ? ` at [${loc.line}, ${loc.column}]` : ''}`,
    locations: e.locations || [],
    extensions: { code: 'parseError' },
  };
}

// Variables coerced with Shopify's (graphql-ruby) error shape: one error per
// variable with `value` and `problems[{path, explanation}]`.
function explain(message) {
  let m;
  if ((m = /^Field "([^"]+)" is not defined by type "([^"]+)"/.exec(message))) return { field: m[1], text: `Field is not defined on ${m[2]}` };
  if (/^Field "([^"]+)" of required type "[^"]+" was not provided/.test(message)) {
    return { field: /^Field "([^"]+)"/.exec(message)[1], text: 'Expected value to not be null' };
  }
  if (/not to be null/.test(message)) return { text: 'Expected value to not be null' };
  if ((m = /^(\w+) cannot represent [^:]*: (.*)$/.exec(message))) return { text: `Could not coerce value ${m[2]} to ${m[1]}` };
  if ((m = /^Value "?([^"]*)"? does not exist in "([^"]+)" enum/.exec(message))) return { text: `Expected "${m[1]}" to be one of the ${m[2]} values` };
  return { text: message };
}

function coerceVariables(schema, op, inputs) {
  const errors = [];
  const coerced = {};
  for (const def of op.variableDefinitions || []) {
    const name = def.variable.name.value;
    const type = typeFromAST(schema, def.type);
    const typeStr = print(def.type);
    if (!type) continue; // already a validation error
    const has = Object.prototype.hasOwnProperty.call(inputs, name);
    if (!has) {
      if (def.defaultValue) continue;
      if (type.toString().endsWith('!')) {
        errors.push({ message: `Variable $${name} of type ${typeStr} was provided invalid value`,
          locations: [def.loc ? locOf(def) : undefined].filter(Boolean),
          extensions: { code: 'INVALID_VARIABLE', value: null, problems: [{ path: [], explanation: 'Expected value to not be null' }] } });
      }
      continue;
    }
    const problems = [];
    const value = coerceInputValue(inputs[name], type, (p, _bad, err) => {
      const ex = explain(err.message);
      const pathOut = p.slice();
      if (ex.field) pathOut.push(ex.field);
      problems.push({ path: pathOut, explanation: ex.text });
    });
    if (problems.length) {
      const first = problems[0];
      const where = first.path.length ? ` for ${first.path.join('.')}` : '';
      errors.push({ message: `Variable $${name} of type ${typeStr} was provided invalid value${where} (${first.explanation})`,
        locations: def.loc ? [locOf(def)] : [],
        extensions: { code: 'INVALID_VARIABLE', value: inputs[name], problems } });
    } else coerced[name] = value;
  }
  return { errors, coerced };
}

function locOf(node) {
  const t = node.loc.startToken;
  return { line: t.line, column: t.column };
}

// ---------------------------------------------------------------- cost
// Approximation of Shopify's calculated query cost:
//   scalar/enum 0; object 1 (+ its children); connection 2 + n x (node cost)
//   where n = first/last when requested, number of returned nodes when actual;
//   each mutation root field 10 (its payload is not charged).
function operationCost(schema, op, fragments, vars, data, limitErrors) {
  if (op.operation === 'mutation') {
    let n = 0;
    const walk = (sel) => {
      for (const s of sel.selections) {
        if (s.kind === Kind.FIELD) { if (!s.name.value.startsWith('__')) n++; } else if (s.kind === Kind.INLINE_FRAGMENT) walk(s.selectionSet);
        else if (s.kind === Kind.FRAGMENT_SPREAD && fragments[s.name.value]) walk(fragments[s.name.value].selectionSet);
      }
    };
    walk(op.selectionSet);
    return n * MUTATION_COST;
  }
  const root = schema.getQueryType();
  return selectionCost(schema, op.selectionSet, root, fragments, vars, data, limitErrors, 0);
}

function selectionCost(schema, selSet, parentType, fragments, vars, data, limitErrors, depth) {
  if (!selSet || depth > 30) return 0;
  let total = 0;
  for (const s of selSet.selections) {
    if (s.kind === Kind.INLINE_FRAGMENT) {
      const t = s.typeCondition ? schema.getType(s.typeCondition.name.value) : parentType;
      total += selectionCost(schema, s.selectionSet, t || parentType, fragments, vars, data, limitErrors, depth + 1);
      continue;
    }
    if (s.kind === Kind.FRAGMENT_SPREAD) {
      const fr = fragments[s.name.value];
      if (fr) {
        const t = schema.getType(fr.typeCondition.name.value) || parentType;
        total += selectionCost(schema, fr.selectionSet, t, fragments, vars, data, limitErrors, depth + 1);
      }
      continue;
    }
    const name = s.name.value;
    if (name.startsWith('__') || !parentType || !parentType.getFields) continue;
    const def = parentType.getFields()[name];
    if (!def) continue;
    const named = getNamedType(def.type);
    if (isLeafType(named)) continue;
    const key = s.alias ? s.alias.value : name;
    const sub = data === undefined ? undefined : data && data[key];
    const fields = named.getFields ? named.getFields() : {};
    if (/Connection$/.test(named.name) && fields.nodes && fields.edges) {
      let args = {};
      try { args = getArgumentValues(def, s, vars); } catch (_) { args = {}; }
      const size = args.first != null ? args.first : args.last != null ? args.last : 0;
      if (limitErrors && size > MAX_PAGE) {
        const which = args.first != null ? 'first' : 'last';
        limitErrors.push({ node: s, message: `Argument '${which}' on Field '${name}' has an invalid value (${size}). Expected a page size from 0 to ${MAX_PAGE}.`,
          argumentName: which });
      }
      const nodeType = getNamedType(fields.nodes.type);
      // cost of one item as selected through `nodes` or `edges { node }` (charged once)
      const itemCost = (cs, it) => {
        if (cs.name.value === 'nodes') {
          return 1 + selectionCost(schema, cs.selectionSet, nodeType, fragments, vars, it, limitErrors, depth + 1);
        }
        let c = 0;
        for (const es of cs.selectionSet.selections) {
          if (es.kind === Kind.FIELD && es.name.value === 'node') {
            c += 1 + selectionCost(schema, es.selectionSet, nodeType, fragments, vars,
              it === undefined ? undefined : it && it.node, limitErrors, depth + 1);
          }
        }
        return c;
      };
      const listSel = s.selectionSet.selections.find((cs) => cs.kind === Kind.FIELD
        && (cs.name.value === 'nodes' || cs.name.value === 'edges'));
      let itemsCost = 0;
      if (listSel && data === undefined) itemsCost = size * itemCost(listSel, undefined);
      else if (listSel && sub) {
        const arr = sub[listSel.alias ? listSel.alias.value : listSel.name.value];
        if (Array.isArray(arr)) for (const it of arr) itemsCost += itemCost(listSel, it);
      }
      total += 2 + itemsCost;
      continue;
    }
    const childData = Array.isArray(sub) ? sub[0] : sub;
    if (data !== undefined && sub == null) { total += 1; continue; }
    total += 1 + selectionCost(schema, s.selectionSet, named, fragments, vars, childData, limitErrors, depth + 1);
  }
  return total;
}

// ---------------------------------------------------------------- leaky bucket
class Bucket {
  constructor(max, rate) { this.configure(max, rate); }
  configure(max, rate) {
    this.max = Number(max);
    this.rate = Number(rate);
    this.available = this.max;
    this.t = Date.now();
  }
  current() {
    const now = Date.now();
    this.available = Math.min(this.max, this.available + ((now - this.t) / 1000) * this.rate);
    this.t = now;
    return this.available;
  }
  take(n) { this.current(); this.available -= n; }
  give(n) { this.current(); this.available = Math.min(this.max, this.available + n); }
  status() {
    return { maximumAvailable: round1(this.max), currentlyAvailable: Math.floor(this.current()), restoreRate: round1(this.rate) };
  }
}

// ---------------------------------------------------------------- server state
const DEFAULT_CONFIG = { maximumAvailable: 2000, restoreRate: 100, latencyMs: 0, maxQueryCost: MAX_QUERY_COST, shopName: 'stockrelay emulator' };

class Emulator {
  constructor(opts) {
    this.opts = opts;
    this.schemas = new Schemas(opts.specs);
    this.docCache = new Map();
    this.store = new Store();
    this.reset();
  }

  reset() {
    this.store.reset();
    this.config = Object.assign({}, DEFAULT_CONFIG, { token: this.opts.token });
    this.bucket = new Bucket(this.config.maximumAvailable, this.config.restoreRate);
    this.requests = [];
    this.requestSeq = 0;
    this.faultRules = [];
    this.rng = mulberry32(1);
    if (!this.bulk) {
      this.bulk = new BulkOps(this, (version, document, rootValue) => execute({ schema: this.schemas.get(version), document,
        contextValue: { store: this.store, features: features(version), shop: this.shop(), version, emu: this }, fieldResolver, rootValue }));
    }
    this.bulk.reset();
  }

  shop() {
    return { id: 'gid://shopify/Shop/1', name: this.config.shopName, myshopifyDomain: 'stockrelay-emulator.myshopify.com',
      email: 'shop@example.invalid', currencyCode: 'EUR', ianaTimezone: 'Europe/Berlin' };
  }

  // parse + validate once per (version, query text)
  document(version, query) {
    const key = version + '\n' + query;
    let d = this.docCache.get(key);
    if (d) return d;
    const schema = this.schemas.get(version);
    d = { schema };
    try {
      d.document = parse(query);
    } catch (e) {
      d.errors = [syntaxError(e)];
      return this.cacheDoc(key, d);
    }
    const verrs = validate(schema, d.document);
    if (verrs.length) {
      const paths = nodePaths(d.document);
      d.errors = verrs.map((e) => shopifyValidationError(e, paths));
    }
    d.fragments = {};
    d.operations = [];
    for (const def of d.document.definitions) {
      if (def.kind === Kind.FRAGMENT_DEFINITION) d.fragments[def.name.value] = def;
      else if (def.kind === Kind.OPERATION_DEFINITION) d.operations.push(def);
    }
    return this.cacheDoc(key, d);
  }

  cacheDoc(key, d) {
    if (this.docCache.size >= DOC_CACHE_MAX) this.docCache.delete(this.docCache.keys().next().value);
    this.docCache.set(key, d);
    return d;
  }
}

// Orders and order webhooks live in their own module.
const orders = require('./orders');

orders.install({ RESOLVERS, paginate, emulatorClass: Emulator });
// The catalogue (products, productSet, prices) lives in its own module too.
require('./catalog').install({ RESOLVERS, storeExtras });

function rootFieldNames(op, fragments) {
  const out = [];
  const walk = (sel) => {
    for (const s of sel.selections) {
      if (s.kind === Kind.FIELD) out.push(s.name.value);
      else if (s.kind === Kind.INLINE_FRAGMENT) walk(s.selectionSet);
      else if (s.kind === Kind.FRAGMENT_SPREAD && fragments[s.name.value]) walk(fragments[s.name.value].selectionSet);
    }
  };
  walk(op.selectionSet);
  return out;
}

function pickOperation(doc, operationName) {
  const ops = doc.operations || [];
  if (operationName) return ops.find((o) => o.name && o.name.value === operationName) || null;
  return ops.length === 1 ? ops[0] : null;
}

function itemCount(variables, roots) {
  const v = variables || {};
  const input = v.input;
  if (input && Array.isArray(input.quantities)) return input.quantities.length;
  if (input && Array.isArray(input.changes)) return input.changes.length;
  if (roots.includes('inventoryActivate')) return 1;
  const q = typeof v.q === 'string' ? v.q : typeof v.query === 'string' ? v.query : null;
  if (q) return tokenizeSearch(q).length;
  return 0;
}

// ---------------------------------------------------------------- HTTP
function readBody(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function send(res, status, body, headers) {
  if (res.destroyed || res.writableEnded) return;
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  const h = Object.assign({ 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(text) }, headers || {});
  res.writeHead(status, h);
  res.end(text);
}

function throttledBody(emu, requested) {
  return {
    errors: [{ message: 'Throttled', extensions: { code: 'THROTTLED', documentation: 'https://shopify.dev/api/usage/rate-limits' } }],
    extensions: { cost: { requestedQueryCost: requested, actualQueryCost: null, throttleStatus: emu.bucket.status() } },
  };
}

function matchFault(emu, opName, roots) {
  for (let i = 0; i < emu.faultRules.length; i++) {
    const r = emu.faultRules[i];
    if (r.operation && r.operation !== opName && !roots.includes(r.operation)) continue;
    if (r.probability != null && emu.rng() >= r.probability) continue;
    if (r.times != null) {
      r.times -= 1;
      if (r.times <= 0) { emu.faultRules.splice(i, 1); }
    }
    return r;
  }
  return null;
}

// Runs one GraphQL request; returns {status, body, headers, log}.
async function runGraphql(emu, version, payload) {
  const log = { requestedCost: null, actualCost: null, throttled: false, errorCodes: [], items: 0, idempotencyKey: null };
  const query = payload.query;
  const variables = payload.variables && typeof payload.variables === 'object' ? payload.variables : {};
  const doc = emu.document(version, query);
  const cost = (requested, actual) => ({ cost: { requestedQueryCost: requested, actualQueryCost: actual, throttleStatus: emu.bucket.status() } });
  if (doc.errors) {
    log.errorCodes = doc.errors.map((e) => e.extensions && e.extensions.code).filter(Boolean);
    return { status: 200, body: { errors: doc.errors, extensions: cost(0, null) }, log };
  }
  const op = pickOperation(doc, payload.operationName);
  if (!op) {
    const message = payload.operationName ? `No operation named "${payload.operationName}"` : 'An operation name is required';
    log.errorCodes = ['BAD_REQUEST'];
    return { status: 200, body: { errors: [{ message, extensions: { code: 'BAD_REQUEST' } }], extensions: cost(0, null) }, log };
  }
  const roots = rootFieldNames(op, doc.fragments);
  log.operationName = op.name ? op.name.value : null;
  log.rootFields = roots;
  log.items = itemCount(variables, roots);
  if (op.operation === 'subscription') {
    return { status: 200, body: { errors: [{ message: 'Subscriptions are not supported', extensions: { code: 'BAD_REQUEST' } }] }, log };
  }
  const { errors: varErrors, coerced } = coerceVariables(doc.schema, op, variables);
  if (varErrors.length) {
    log.errorCodes = varErrors.map((e) => e.extensions.code);
    return { status: 200, body: { errors: varErrors, extensions: cost(0, null) }, log };
  }
  const limitErrors = [];
  const requested = operationCost(doc.schema, op, doc.fragments, coerced, undefined, limitErrors);
  log.requestedCost = requested;
  if (limitErrors.length) {
    const paths = nodePaths(doc.document);
    const errors = limitErrors.map((l) => ({ message: l.message, locations: [locOf(l.node)], path: paths.get(l.node),
      extensions: { code: 'argumentLiteralsIncompatible', typeName: 'Field', argumentName: l.argumentName } }));
    log.errorCodes = errors.map((e) => e.extensions.code);
    return { status: 200, body: { errors, extensions: cost(requested, null) }, log };
  }
  if (requested > emu.config.maxQueryCost) {
    const message = `Query cost is ${requested}, which exceeds the single query max cost limit (${emu.config.maxQueryCost}).\n\n`
      + 'See https://shopify.dev/concepts/about-apis/rate-limits for more information on how the\ncost of a query is calculated.\n\n'
      + 'To query larger amounts of data with fewer limits, bulk operations should be used instead.\n'
      + 'See https://shopify.dev/tutorials/perform-bulk-operations-with-admin-api for usage details.\n';
    log.errorCodes = ['MAX_COST_EXCEEDED'];
    return { status: 200, body: { errors: [{ message, extensions: { code: 'MAX_COST_EXCEEDED', cost: requested, maxCost: emu.config.maxQueryCost } }],
      extensions: cost(requested, null) }, log };
  }
  if (requested > emu.bucket.current()) {
    log.throttled = true;
    log.errorCodes = ['THROTTLED'];
    return { status: 200, body: throttledBody(emu, requested), log };
  }
  emu.bucket.take(requested);
  if (emu.config.latencyMs > 0) await sleep(emu.config.latencyMs);
  const ctx = { store: emu.store, features: features(version), shop: emu.shop(), version, emu, origin: emu.origin };
  const result = execute({ schema: doc.schema, document: doc.document, operationName: payload.operationName || undefined,
    variableValues: variables, contextValue: ctx, fieldResolver, rootValue: {} });
  const actual = op.operation === 'mutation' ? requested
    : operationCost(doc.schema, op, doc.fragments, coerced, result.data || null, null);
  emu.bucket.give(Math.max(0, requested - actual));
  log.actualCost = actual;
  log.idempotencyKey = ctx.idempotencyKey || null;
  log.replayed = !!ctx.replayed;
  log.applied = ctx.applied || 0;
  const body = {};
  if (result.errors) {
    body.errors = result.errors.map((e) => {
      const o = e.toJSON ? e.toJSON() : { message: e.message };
      if (!o.extensions || !o.extensions.code) o.extensions = Object.assign({ code: 'INTERNAL_SERVER_ERROR' }, o.extensions);
      return o;
    });
    log.errorCodes = body.errors.map((e) => e.extensions.code);
  }
  body.data = result.data === undefined ? null : result.data;
  if (result.data) {
    for (const v of Object.values(result.data)) {
      if (v && Array.isArray(v.userErrors)) for (const ue of v.userErrors) log.errorCodes.push(ue.code || 'USER_ERROR');
    }
  }
  body.extensions = cost(requested, actual);
  return { status: 200, body, log };
}

async function handleControl(emu, req, res, name) {
  let payload = {};
  if (req.method === 'POST') {
    const raw = (await readBody(req)).toString('utf8');
    if (raw.trim()) {
      try { payload = JSON.parse(raw); } catch (e) { return send(res, 400, { error: 'body is not JSON' }); }
    }
  } else await readBody(req);
  try {
    if (name === 'reset' && req.method === 'POST') { emu.reset(); return send(res, 200, { ok: true }); }
    if (name === 'config' && (req.method === 'POST' || req.method === 'GET')) {
      const c = emu.config;
      if (payload.token !== undefined) c.token = payload.token === null ? null : String(payload.token);
      for (const k of ['latencyMs', 'maxQueryCost']) if (payload[k] !== undefined) c[k] = Number(payload[k]);
      if (payload.shopName !== undefined) c.shopName = String(payload.shopName);
      if (payload.maximumAvailable !== undefined || payload.restoreRate !== undefined) {
        if (payload.maximumAvailable !== undefined) c.maximumAvailable = Number(payload.maximumAvailable);
        if (payload.restoreRate !== undefined) c.restoreRate = Number(payload.restoreRate);
        emu.bucket.configure(c.maximumAvailable, c.restoreRate);
      }
      if (payload.currentlyAvailable !== undefined) {
        emu.bucket.current();
        emu.bucket.available = Math.min(emu.bucket.max, Number(payload.currentlyAvailable));
      }
      return send(res, 200, { maximumAvailable: c.maximumAvailable, restoreRate: c.restoreRate, latencyMs: c.latencyMs,
        maxQueryCost: c.maxQueryCost, shopName: c.shopName, tokenSet: c.token != null, throttleStatus: emu.bucket.status(),
        versions: emu.schemas.versions() });
    }
    if (name === 'seed' && req.method === 'POST') {
      const out = { locations: {}, variants: {}, created: [] };
      for (const l of payload.locations || []) {
        const loc = emu.store.addLocation(l);
        out.locations[loc.name] = loc.id;
      }
      for (const p of payload.products || []) {
        for (const c of emu.store.addProduct(p)) {
          out.created.push(c);
          if (c.sku != null) out.variants[c.sku] = c;
        }
      }
      return send(res, 200, out);
    }
    if (name === 'rename' && req.method === 'POST') return send(res, 200, emu.store.renameSku(payload.variantId, payload.sku));
    if (name === 'bulk' && req.method === 'GET') return send(res, 200, emu.bulk.dump());
    if (name === 'bulk' && req.method === 'POST') return send(res, 200, emu.bulk.configure(payload));
    const extra = storeExtras[name];
    if (extra && req.method === 'POST') return send(res, 200, extra(emu.store, payload));
    if (name === 'state' && req.method === 'GET') return send(res, 200, emu.store.snapshot());
    if (name === 'history' && req.method === 'GET') return send(res, 200, emu.store.historyDump());
    if (name === 'requests' && req.method === 'GET') return send(res, 200, { requests: emu.requests });
    if (name === 'faults' && req.method === 'POST') {
      const rules = (payload.rules || []).map((r) => Object.assign({}, r));
      for (const r of rules) {
        if (!['status', 'http429', 'timeout', 'close', 'garbage', 'truncated', 'throttle'].includes(r.action)) {
          return send(res, 400, { error: `unknown fault action ${r.action}` });
        }
      }
      emu.faultRules = rules;
      if (payload.seed != null) emu.rng = mulberry32(Number(payload.seed));
      return send(res, 200, { rules: emu.faultRules.length });
    }
    if (name === 'faults' && req.method === 'DELETE') { emu.faultRules = []; return send(res, 200, { rules: 0 }); }
    if (name === 'faults' && req.method === 'GET') return send(res, 200, { rules: emu.faultRules });
    const ordersAnswer = orders.control(emu, req.method, name, payload);
    if (ordersAnswer) return send(res, ordersAnswer.status, ordersAnswer.body);
  } catch (e) {
    return send(res, 400, { error: String(e && e.message || e) });
  }
  return send(res, 404, { error: `no control endpoint ${req.method} ${name}` });
}

async function handle(emu, req, res) {
  const url = new URL(req.url, 'http://127.0.0.1');
  const ctl = /^\/_control\/([a-z]+)\/?$/.exec(url.pathname);
  if (ctl) return handleControl(emu, req, res, ctl[1]);
  emu.origin = `${emu.opts.tlsCert ? 'https' : 'http'}://${req.headers.host || '127.0.0.1'}`;
  if (url.pathname.startsWith('/_bulk/')) {
    await readBody(req);
    const rule = emu.faultRules.some((r) => r.operation === 'bulkDownload') ? matchFault(emu, 'bulkDownload', []) : null;
    if (!emu.bulk.serve(req, res, url.pathname, rule)) send(res, 404, { errors: 'Not Found' });
    return undefined;
  }

  const m = /^\/admin\/api\/([^/]+)\/graphql\.json$/.exec(url.pathname);
  const started = Date.now();
  const entry = { seq: 0, time: started, version: m ? m[1] : null, operationName: null, rootFields: [], status: 0,
    items: 0, requestedCost: null, actualCost: null, throttled: false, errorCodes: [], fault: null, durationMs: 0 };
  const finish = (status, body, headers) => {
    entry.status = status;
    entry.durationMs = Date.now() - started;
    entry.seq = ++emu.requestSeq;
    emu.requests.push(entry);
    if (emu.requests.length > 100000) emu.requests.splice(0, emu.requests.length - 100000);
    if (body !== undefined) send(res, status, body, headers);
  };
  const rawBody = await readBody(req);
  if (!m || !emu.schemas.has(m[1])) return finish(404, { errors: 'Not Found' });
  const version = m[1];
  if (req.method !== 'POST') return finish(405, { errors: 'Method Not Allowed' }, { Allow: 'POST' });
  const token = req.headers['x-shopify-access-token'];
  if (!token || emu.config.token == null || token !== emu.config.token) {
    entry.errorCodes = ['UNAUTHORIZED'];
    return finish(401, { errors: '[API] Invalid API key or access token (unrecognized login or wrong password)' });
  }
  let payload;
  const ctype = String(req.headers['content-type'] || '');
  if (ctype.startsWith('application/graphql')) payload = { query: rawBody.toString('utf8') };
  else {
    try { payload = JSON.parse(rawBody.toString('utf8')); } catch (_) { payload = null; }
  }
  if (!payload || typeof payload !== 'object' || typeof payload.query !== 'string' || !payload.query.trim()) {
    entry.errorCodes = ['BAD_REQUEST'];
    return finish(400, { errors: { query: 'Required parameter missing or invalid' } });
  }
  // operation name / root fields for fault matching and the log
  let opName = payload.operationName || null;
  let roots = [];
  try {
    const doc = emu.document(version, payload.query);
    const op = doc.operations ? pickOperation(doc, payload.operationName) : null;
    if (op) { opName = op.name ? op.name.value : opName; roots = rootFieldNames(op, doc.fragments); }
  } catch (_) { /* reported by runGraphql */ }
  entry.operationName = opName;
  entry.rootFields = roots;
  entry.items = itemCount(payload.variables, roots);

  const rule = emu.faultRules.length ? matchFault(emu, opName, roots) : null;
  if (rule) {
    entry.fault = rule.action;
    if (rule.delayMs && rule.action !== 'timeout') await sleep(rule.delayMs);
    let executed = null;
    if (rule.execute) executed = await runGraphql(emu, version, payload);
    switch (rule.action) {
      case 'timeout':
        entry.status = 0;
        finish(0);
        setTimeout(() => req.socket.destroy(), rule.delayMs != null ? rule.delayMs : 30000);
        return undefined;
      case 'close':
        finish(0);
        req.socket.destroy();
        return undefined;
      case 'status': {
        const status = rule.status || 500;
        const body = rule.body !== undefined ? rule.body : { errors: http.STATUS_CODES[status] || 'Error' };
        const headers = typeof body === 'string' ? { 'Content-Type': 'text/html; charset=utf-8' } : {};
        if (rule.retryAfter != null) headers['Retry-After'] = String(rule.retryAfter);
        return finish(status, body, headers);
      }
      case 'http429':
        return finish(429, rule.body !== undefined ? rule.body
          : { errors: 'Exceeded 2 calls per second for api client. Reduce request rates to resume uninterrupted service.' },
        { 'Retry-After': String(rule.retryAfter != null ? rule.retryAfter : '2.0') });
      case 'garbage':
        return finish(200, rule.body !== undefined ? String(rule.body)
          : '<html><body><h1>502 Bad Gateway</h1>upstream sent garbage</body></html>',
        { 'Content-Type': 'application/json; charset=utf-8' });
      case 'truncated': {
        const full = JSON.stringify(executed ? executed.body
          : { data: null, extensions: { cost: { requestedQueryCost: 10, actualQueryCost: 10, throttleStatus: emu.bucket.status() } } });
        return finish(200, full.slice(0, Math.max(1, Math.floor(full.length / 2))));
      }
      case 'throttle':
        entry.throttled = true;
        entry.errorCodes = ['THROTTLED'];
        return finish(200, throttledBody(emu, entry.requestedCost || 10));
      default:
        break;
    }
  }
  const out = await runGraphql(emu, version, payload);
  Object.assign(entry, {
    operationName: out.log.operationName !== undefined ? out.log.operationName : entry.operationName,
    requestedCost: out.log.requestedCost, actualCost: out.log.actualCost, throttled: out.log.throttled,
    errorCodes: out.log.errorCodes, idempotencyKey: out.log.idempotencyKey, replayed: out.log.replayed || false,
    applied: out.log.applied || 0,
  });
  return finish(out.status, out.body, { 'X-Shopify-API-Version': version, 'X-Request-Id': crypto.randomUUID() });
}

// ---------------------------------------------------------------- main
function main() {
  let opts;
  try { opts = parseArgs(process.argv.slice(2)); } catch (e) {
    process.stderr.write(`shopify emulator: ${e.message}\n`);
    process.exit(2);
  }
  if (opts.log) {
    const stream = fs.createWriteStream(opts.log, { flags: 'a' });
    process.stderr.write = stream.write.bind(stream);
  }
  const emu = new Emulator(opts);
  const handler = (req, res) => {
    handle(emu, req, res).catch((e) => {
      process.stderr.write(`shopify emulator: internal error: ${e && e.stack || e}\n`);
      send(res, 500, { errors: 'Internal Server Error' });
    });
  };
  const server = opts.tlsCert
    ? https.createServer({ cert: fs.readFileSync(opts.tlsCert), key: fs.readFileSync(opts.tlsKey) }, handler)
    : http.createServer(handler);
  server.keepAliveTimeout = 30000;
  server.headersTimeout = 35000;
  server.requestTimeout = 0;
  const stop = () => { try { server.closeAllConnections(); } catch (_) { /* old node */ } process.exit(0); };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  // Stop by ourselves when the process that started us goes away.
  const parent = process.ppid;
  setInterval(() => { if (process.ppid !== parent) stop(); }, 1000).unref();
  server.listen(opts.port, '127.0.0.1', () => {
    process.stderr.write(`shopify emulator: listening on 127.0.0.1:${server.address().port} (${opts.tlsCert ? 'https' : 'http'}), `
      + `versions ${emu.schemas.versions().join(' ')}\n`);
    process.stdout.write(`LISTENING ${server.address().port}\n`);
  });
}

if (require.main === module) main();

module.exports = { tokenizeSearch, features, Emulator };
