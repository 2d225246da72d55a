'use strict';
/*
 * Bulk query operations for the Shopify emulator (shared/specs/shopify.md §6 and
 * the pinned schemas):
 *   bulkOperationRunQuery(query[, groupObjects]) -> BulkOperation (CREATED) | userErrors{code INVALID |
 *     OPERATION_IN_PROGRESS (before 2026-01: one running bulk query per shop) | LIMIT_REACHED (2026-01+: five)}
 *   currentBulkOperation(type)   every version: the newest operation of that type
 *   bulkOperation(id) / bulkOperations(first, query, ...)   2026-01+ (the schemas before have neither)
 *   bulkOperationCancel(id)
 * The operation runs in the background in windows of the root connection (so a
 * 100k-item shop never blocks status polls), then its JSONL result is served at
 * `url` (GET /_bulk/<token>.jsonl, no token needed: a signed storage URL in
 * real Shopify). Lines are Shopify's format: one object per node; the nodes of
 * a nested connection are lines of their own with "__parentId" naming the
 * parent node's id, after their parent. An empty result has url null.
 * On completion an optional `bulk_operations/finish` webhook is POSTed.
 */
const crypto = require('crypto');
const http = require('http');
const { Kind, getNamedType } = require('graphql');

const RUNNING = new Set(['CREATED', 'RUNNING', 'CANCELING']);
const DEFAULTS = { rowsPerTick: 5000, minDurationMs: 0, failAfterRoots: null, failCode: 'INTERNAL_SERVER_ERROR',
  corruptLines: [], webhookUrl: null, webhookSecret: null };

const isConnectionType = (t) => /Connection$/.test(getNamedType(t).name);

// The response shape of a selection set: key -> {connection, shape of a node | object}.
function shapeOf(schema, selSet, parentType, fragments, depth, problems) {
  const shape = new Map();
  if (!selSet) return shape;
  for (const s of selSet.selections) {
    if (s.kind === Kind.INLINE_FRAGMENT || s.kind === Kind.FRAGMENT_SPREAD) {
      const fr = s.kind === Kind.INLINE_FRAGMENT ? s : fragments[s.name.value];
      const t = fr && fr.typeCondition ? schema.getType(fr.typeCondition.name.value) : parentType;
      if (fr) for (const [k, v] of shapeOf(schema, fr.selectionSet, t, fragments, depth, problems)) shape.set(k, v);
      continue;
    }
    const def = parentType && parentType.getFields ? parentType.getFields()[s.name.value] : null;
    if (!def) continue;
    const key = s.alias ? s.alias.value : s.name.value;
    if (!isConnectionType(def.type)) {
      const named = getNamedType(def.type);
      shape.set(key, { connection: false, sub: named.getFields ? shapeOf(schema, s.selectionSet, named, fragments, depth, problems) : null });
      continue;
    }
    problems.connections += 1;
    problems.maxDepth = Math.max(problems.maxDepth, depth + 1);
    const conn = getNamedType(def.type);
    const nodeType = getNamedType(conn.getFields().nodes ? conn.getFields().nodes.type : conn.getFields().edges.type);
    let nodeSel = null;
    for (const c of s.selectionSet ? s.selectionSet.selections : []) {
      if (c.kind !== Kind.FIELD) continue;
      if (c.name.value === 'nodes') nodeSel = c.selectionSet;
      if (c.name.value === 'edges') {
        const n = (c.selectionSet ? c.selectionSet.selections : []).find((x) => x.kind === Kind.FIELD && x.name.value === 'node');
        if (n) nodeSel = n.selectionSet;
      }
    }
    const realNode = nodeType.getFields().node ? getNamedType(nodeType.getFields().node.type) : nodeType;
    const sub = shapeOf(schema, nodeSel, realNode, fragments, depth + 1, problems);
    shape.set(key, { connection: true, sub, hasId: sub.has('id') });
  }
  return shape;
}

// Shopify's bulk query restrictions (approximation of the wording).
// `doc` is the emulator's parsed + validated document (errors in Shopify's wording).
function checkBulkQuery(schema, doc) {
  if (doc.errors && doc.errors.length) return { error: `Invalid bulk query: ${doc.errors[0].message}` };
  const { document } = doc;
  const ops = document.definitions.filter((d) => d.kind === Kind.OPERATION_DEFINITION);
  if (ops.length !== 1 || ops[0].operation !== 'query') return { error: 'Invalid bulk query: the document must hold exactly one query.' };
  if ((ops[0].variableDefinitions || []).length) return { error: 'Invalid bulk query: variables are not supported in bulk queries.' };
  const fragments = {};
  for (const d of document.definitions) if (d.kind === Kind.FRAGMENT_DEFINITION) fragments[d.name.value] = d;
  const roots = ops[0].selectionSet.selections.filter((s) => s.kind === Kind.FIELD);
  if (roots.some((r) => r.name.value === 'node' || r.name.value === 'nodes')) {
    return { error: "Invalid bulk query: the top-level 'node' and 'nodes' fields are not supported in bulk queries." };
  }
  const problems = { connections: 0, maxDepth: 0 };
  const shape = shapeOf(schema, ops[0].selectionSet, schema.getQueryType(), fragments, 0, problems);
  const rootConns = [...shape.entries()].filter(([, v]) => v.connection);
  if (!problems.connections || !rootConns.length) return { error: 'Invalid bulk query: Bulk queries must contain at least one connection.' };
  if (rootConns.length > 1) return { error: 'Invalid bulk query: Bulk queries must have exactly one top-level connection.' };
  if (problems.connections > 5) return { error: 'Invalid bulk query: Bulk queries cannot contain more than 5 connections.' };
  if (problems.maxDepth > 2) return { error: 'Invalid bulk query: Bulk queries cannot contain connections with a nesting depth greater than 2.' };
  const nested = [...rootConns[0][1].sub.values()].some((v) => v.connection);
  if (nested && !rootConns[0][1].hasId) {
    return { error: "Invalid bulk query: The parent 'node' field for a nested connection must select the 'id' field." };
  }
  return { document, shape, rootKey: rootConns[0][0] };
}

const nodesOf = (conn) => (conn == null ? [] : Array.isArray(conn.nodes) ? conn.nodes
  : Array.isArray(conn.edges) ? conn.edges.map((e) => e && e.node).filter(Boolean) : []);

// One node -> its line, then the lines of its nested connections' nodes.
function emitNode(node, shape, parentId, out, counts) {
  const line = {};
  const children = [];
  for (const [k, v] of Object.entries(node)) {
    const s = shape.get(k);
    if (s && s.connection) children.push([v, s]);
    else line[k] = v;
  }
  if (parentId) line.__parentId = parentId;
  out.push(JSON.stringify(line));
  counts.objects += 1;
  for (const [conn, s] of children) for (const child of nodesOf(conn)) emitNode(child, s.sub, node.id, out, counts);
}

class BulkOps {
  // run(version, document, rootValue) executes a document over the store.
  constructor(emu, run) {
    this.emu = emu;
    this.run = run;
    this.reset();
  }

  reset() {
    for (const op of (this.ops || new Map()).values()) if (op.timer) clearTimeout(op.timer);
    this.ops = new Map();       // gid -> op
    this.files = new Map();     // token -> Buffer
    this.seq = 0;
    this.downloads = [];        // {token, withShopToken, status, at}
    this.webhooks = [];
    this.config = Object.assign({}, DEFAULTS);
  }

  configure(payload) {
    for (const k of Object.keys(DEFAULTS)) if (payload[k] !== undefined) this.config[k] = payload[k];
    return this.config;
  }

  limit(version) { return version >= '2026-01' ? 5 : 1; }

  runQuery(ctx, args) {
    const running = [...this.ops.values()].filter((o) => o.type === 'QUERY' && RUNNING.has(o.status));
    if (running.length >= this.limit(ctx.version)) {
      const userErrors = ctx.version >= '2026-01'
        ? [{ field: null, code: 'LIMIT_REACHED', message: 'Bulk operations limit reached. Please try again later.' }]
        : [{ field: null, code: 'OPERATION_IN_PROGRESS',
          message: `A bulk query operation for this app and shop is already in progress: ${running[0].id}.` }];
      return { bulkOperation: null, userErrors };
    }
    const checked = checkBulkQuery(ctx.schema, this.emu.document(ctx.version, args.query));
    if (checked.error) return { bulkOperation: null, userErrors: [{ field: ['query'], code: 'INVALID', message: checked.error }] };
    const num = 720000 + (++this.seq);
    const op = { id: `gid://shopify/BulkOperation/${num}`, num, type: 'QUERY', status: 'CREATED', query: args.query,
      createdAt: new Date().toISOString(), completedAt: null, errorCode: null, objectCount: '0', rootObjectCount: '0',
      fileSize: null, url: null, partialDataUrl: null, version: ctx.version, schema: ctx.schema, checked,
      lines: [], counts: { objects: 0, roots: 0 }, cursor: 0, cache: {}, started: Date.now(), origin: ctx.origin };
    this.ops.set(op.id, op);
    op.timer = setTimeout(() => this.step(op), 0);
    return { bulkOperation: op, userErrors: [] };
  }

  // Runs one window of the root connection.
  step(op) {
    op.timer = null;
    if (op.status === 'CANCELING') return this.finish(op, 'CANCELED', null);
    op.status = 'RUNNING';
    const size = Math.max(1, Number(this.config.rowsPerTick) || DEFAULTS.rowsPerTick);
    const window = { start: op.cursor, size, total: 0, cache: op.cache };
    const result = this.run(op.version, op.checked.document, { bulk: window });
    if (result.errors && result.errors.length) return this.finish(op, 'FAILED', 'INTERNAL_SERVER_ERROR');
    const roots = nodesOf(result.data && result.data[op.checked.rootKey]);
    for (const node of roots) {
      emitNode(node, op.checked.shape.get(op.checked.rootKey).sub, null, op.lines, op.counts);
      op.counts.roots += 1;
      const failAt = this.config.failAfterRoots;
      if (failAt != null && op.counts.roots >= failAt) return this.finish(op, 'FAILED', this.config.failCode);
    }
    op.cursor += roots.length;
    op.objectCount = String(op.counts.objects);
    op.rootObjectCount = String(op.counts.roots);
    if (op.cursor < window.total) { op.timer = setTimeout(() => this.step(op), 0); return undefined; }
    const wait = Math.max(0, op.started + Number(this.config.minDurationMs || 0) - Date.now());
    if (wait > 0) { op.timer = setTimeout(() => this.finish(op, 'COMPLETED', null), wait); return undefined; }
    return this.finish(op, 'COMPLETED', null);
  }

  finish(op, status, errorCode) {
    if (op.timer) { clearTimeout(op.timer); op.timer = null; }
    if (op.status === 'CANCELING' && status === 'COMPLETED') status = 'CANCELED';
    for (const n of this.config.corruptLines || []) if (n >= 0 && n < op.lines.length) op.lines[n] = op.lines[n].slice(0, -7) + '<garbled';
    const file = op.lines.length ? Buffer.from(op.lines.join('\n') + '\n') : null;
    op.lines = [];
    op.cache = {};
    op.status = status;
    op.errorCode = errorCode;
    op.completedAt = new Date().toISOString();
    op.objectCount = String(op.counts.objects);
    op.rootObjectCount = String(op.counts.roots);
    if (file) {
      const token = crypto.randomBytes(12).toString('hex');
      this.files.set(token, file);
      const url = `${op.origin}/_bulk/${token}.jsonl?X-Goog-Signature=emulated`;
      if (status === 'COMPLETED') { op.url = url; op.fileSize = String(file.length); } else if (status === 'FAILED') op.partialDataUrl = url;
    }
    this.webhook(op);
    return undefined;
  }

  webhook(op) {
    const target = this.config.webhookUrl;
    if (!target) return;
    const body = JSON.stringify({ admin_graphql_api_id: op.id, completed_at: op.completedAt, created_at: op.createdAt,
      error_code: op.errorCode ? op.errorCode.toLowerCase() : null, status: op.status.toLowerCase(), type: 'query' });
    const headers = { 'Content-Type': 'application/json', 'X-Shopify-Topic': 'bulk_operations/finish',
      'X-Shopify-Shop-Domain': 'stockrelay-emulator.myshopify.com', 'Content-Length': Buffer.byteLength(body) };
    if (this.config.webhookSecret) {
      headers['X-Shopify-Hmac-Sha256'] = crypto.createHmac('sha256', this.config.webhookSecret).update(body).digest('base64');
    }
    const req = http.request(target, { method: 'POST', headers }, (res) => { res.resume(); this.webhooks.push({ id: op.id, status: res.statusCode }); });
    req.on('error', (e) => this.webhooks.push({ id: op.id, error: String(e.message) }));
    req.end(body);
  }

  cancel(args) {
    const op = this.ops.get(args.id);
    if (!op) return { bulkOperation: null, userErrors: [{ field: ['id'], message: 'Bulk operation does not exist' }] };
    if (!RUNNING.has(op.status)) {
      return { bulkOperation: op, userErrors: [{ field: null, message: `A bulk operation cannot be canceled when it is ${op.status.toLowerCase()}` }] };
    }
    op.status = 'CANCELING';
    if (op.timer) { clearTimeout(op.timer); op.timer = setTimeout(() => this.finish(op, 'CANCELED', null), 0); }
    return { bulkOperation: op, userErrors: [] };
  }

  current(type) {
    let newest = null;
    for (const op of this.ops.values()) if (op.type === (type || 'QUERY') && (!newest || op.num > newest.num)) newest = op;
    return newest;
  }

  list(args) {
    let ops = [...this.ops.values()].sort((a, b) => a.num - b.num);
    for (const term of String(args.query || '').split(/\s+/).filter(Boolean)) {
      const [field, value] = term.split(':');
      if (field === 'status') ops = ops.filter((o) => o.status === String(value).toUpperCase());
      if (field === 'operation_type') ops = ops.filter((o) => o.type === String(value).toUpperCase());
    }
    return ops;
  }

  // GET /_bulk/<token>.jsonl; returns true when it handled the request.
  serve(req, res, pathname, fault) {
    const m = /^\/_bulk\/([0-9a-f]+)\.jsonl$/.exec(pathname);
    if (!m) return false;
    const file = this.files.get(m[1]);
    const entry = { token: m[1], withShopToken: req.headers['x-shopify-access-token'] != null, status: 0, at: Date.now(),
      fault: fault ? fault.action : null };
    this.downloads.push(entry);
    if (!file) { entry.status = 404; res.writeHead(404, { 'Content-Type': 'application/xml' }); res.end('<Error><Code>NoSuchKey</Code></Error>'); return true; }
    if (fault && (fault.action === 'close' || fault.action === 'timeout')) {
      res.writeHead(200, { 'Content-Type': 'application/jsonl', 'Content-Length': file.length });
      const cut = fault.action === 'timeout' ? (fault.delayMs != null ? fault.delayMs : 30000) : 50;
      res.write(file.subarray(0, Math.floor(file.length / 2)), () => setTimeout(() => req.socket.destroy(), cut));
      return true;
    }
    if (fault && fault.action === 'status') {
      entry.status = fault.status || 500;
      res.writeHead(entry.status, { 'Content-Type': 'application/xml' });
      res.end('<Error><Code>InternalError</Code></Error>');
      return true;
    }
    entry.status = 200;
    res.writeHead(200, { 'Content-Type': 'application/jsonl', 'Content-Length': file.length });
    res.end(file);
    return true;
  }

  dump() {
    return { ops: [...this.ops.values()].map((o) => ({ id: o.id, status: o.status, errorCode: o.errorCode, objectCount: o.objectCount,
      rootObjectCount: o.rootObjectCount, url: o.url, partialDataUrl: o.partialDataUrl, version: o.version, query: o.query })),
    downloads: this.downloads, webhooks: this.webhooks, config: this.config };
  }
}

function bulkResolvers() {
  const opView = (op) => op;
  return {
    'Mutation.bulkOperationRunQuery': (_s, args, ctx, info) => ctx.emu.bulk.runQuery(Object.assign({ schema: info.schema }, ctx), args),
    'Mutation.bulkOperationCancel': (_s, args, ctx) => ctx.emu.bulk.cancel(args),
    'QueryRoot.currentBulkOperation': (_s, args, ctx) => opView(ctx.emu.bulk.current(args.type)),
    'QueryRoot.bulkOperation': (_s, args, ctx) => ctx.emu.bulk.ops.get(args.id) || null,
  };
}

module.exports = { BulkOps, bulkResolvers, checkBulkQuery };
