'use strict';
/*
 * The catalogue side of the Shopify emulator (issue 16; kept out of server.js).
 *
 * GraphQL (validated against the pinned schema like every document):
 *   QueryRoot.product(id), Product.{handle,status,descriptionHtml,metafield,options},
 *   ProductVariant.{price,barcode,selectedOptions,metafield}, InventoryItem.measurement,
 *   Mutation.productSet (synchronous; list fields replaced as the pinned schemas describe:
 *   variants, options and a given metafields list replace what the product had), and
 *   Mutation.productVariantsBulkUpdate (all or nothing, as with allowPartialUpdates: false),
 *   Mutation.metafieldsSet (upsert, at most 25, atomic).
 * Like Shopify: userErrors {code, field, message} with its codes (OPTIONS_OVER_LIMIT,
 * VARIANTS_OVER_LIMIT (2048 variants), HANDLE_NOT_UNIQUE, PRODUCT_DOES_NOT_EXIST,
 * PRODUCT_VARIANT_DOES_NOT_EXIST, OPTION_DOES_NOT_EXIST, OPTION_VALUE_DOES_NOT_EXIST,
 * INVALID_VARIANT, INVALID_INPUT); a mutation costs what any mutation costs in the bucket.
 * Approximations: asynchronous productSet runs synchronously; no files, collections, SEO.
 *
 * Control: POST /_control/product {id | sku} -> the stored product with its variants.
 */
const MAX_OPTIONS = 3;
const MAX_VARIANTS = 2048;
const MAX_TEXT = 255;
const DEFAULT_OPTION = { name: 'Title', value: 'Default Title' };

const slug = (t) => String(t).toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '');
const ue = (code, field, message) => ({ code, field, message });

function metafieldOf(owner, args) {
  const m = (owner.metafields || {})[`${args.namespace}.${args.key}`];
  return m ? Object.assign({ namespace: args.namespace, key: args.key }, m) : null;
}

function upsertMetafields(store, owner, list) {
  owner.metafields = owner.metafields || {};
  for (const m of list || []) {
    const k = `${m.namespace}.${m.key}`;
    const old = owner.metafields[k];
    owner.metafields[k] = { id: old ? old.id : store.newId('Metafield').gid, value: String(m.value),
      type: m.type || (old && old.type) || 'single_line_text_field' };
  }
}

// Products made by seed keep the handle server.js always gave them.
function handleOf(p) { return p.handle || p.title.toLowerCase().replace(/[^a-z0-9]+/g, '-'); }

function productByHandle(store, handle) {
  for (const p of store.products.values()) if (handleOf(p) === handle) return p;
  return null;
}

// Shopify's checks of a productSet input, in its words; [] when it is acceptable.
function checkProductSet(store, input, existing) {
  const errs = [];
  const opts = input.productOptions;
  if (input.id && !existing) errs.push(ue('PRODUCT_DOES_NOT_EXIST', ['input', 'id'], 'Product does not exist'));
  if (opts && opts.length > MAX_OPTIONS) {
    errs.push(ue('OPTIONS_OVER_LIMIT', ['input', 'productOptions'], `Can only specify a maximum of ${MAX_OPTIONS} options`));
  }
  const variants = input.variants || [];
  if (variants.length > MAX_VARIANTS) {
    errs.push(ue('VARIANTS_OVER_LIMIT', ['input', 'variants'], `Can only specify a maximum of ${MAX_VARIANTS} variants`));
  }
  if (variants.length && !opts && !existing) {
    errs.push(ue('PRODUCT_OPTIONS_INPUT_MISSING', ['input', 'productOptions'], 'Product options input is missing.'));
  }
  if (input.handle != null) {
    if (String(input.handle).length > MAX_TEXT) errs.push(ue('INVALID_INPUT', ['input', 'handle'], 'Handle is too long (maximum is 255 characters)'));
    const owner = productByHandle(store, String(input.handle));
    if (owner && (!existing || owner.id !== existing.id)) {
      errs.push(ue('HANDLE_NOT_UNIQUE', ['input', 'handle'], `Handle '${input.handle}' already in use. Please provide a new handle.`));
    }
  }
  (opts || []).forEach((o, i) => {
    if (String(o.name).length > MAX_TEXT) errs.push(ue('INVALID_INPUT', ['input', 'productOptions', String(i), 'name'], 'Option name is too long'));
    const names = (o.values || []).map((v) => String(v.name));
    if (names.some((n) => n.length > MAX_TEXT)) errs.push(ue('INVALID_INPUT', ['input', 'productOptions', String(i), 'values'], 'Option value name is too long'));
    if (new Set(names).size !== names.length) errs.push(ue('DUPLICATED_OPTION_VALUE', ['input', 'productOptions', String(i), 'values'], 'Duplicated option value.'));
  });
  const effOpts = opts || (existing && existing.options) || [];
  variants.forEach((v, i) => {
    const at = ['input', 'variants', String(i)];
    if (v.id) {
      const sv = store.variants.get(v.id);
      if (!sv || !existing || sv.productId !== existing.id) errs.push(ue('PRODUCT_VARIANT_DOES_NOT_EXIST', at.concat('id'), 'Product variant does not exist'));
    }
    if (v.price != null && !(Number(v.price) >= 0)) errs.push(ue('INVALID_VARIANT', at.concat('price'), 'Price must be greater than or equal to 0'));
    for (const ov of v.optionValues || []) {
      const o = effOpts.find((x) => x.name === ov.optionName);
      if (!o) { errs.push(ue('OPTION_DOES_NOT_EXIST', at.concat('optionValues'), `Option '${ov.optionName}' does not exist`)); continue; }
      const values = (o.values || o.optionValues || []).map((x) => String(x.name));
      if (!values.includes(String(ov.name))) errs.push(ue('OPTION_VALUE_DOES_NOT_EXIST', at.concat('optionValues'), `Option value '${ov.name}' does not exist`));
    }
  });
  return errs;
}

function removeVariant(store, variant) {
  if (variant.sku !== null) {
    const ids = (store.skuIndex.get(variant.sku) || []).filter((id) => id !== variant.id);
    if (ids.length) store.skuIndex.set(variant.sku, ids); else store.skuIndex.delete(variant.sku);
  }
  for (const level of store.itemLevels(variant.inventoryItemId)) store.levels.delete(store.levelKey(level.itemId, level.locationId));
  store.levelsByItem.delete(variant.inventoryItemId);
  store.items.delete(variant.inventoryItemId);
  store.variants.delete(variant.id);
}

function setSku(store, variant, sku) {
  if (variant.sku === sku) return;
  store.renameSku(variant.id, sku);
}

// `replaceLists`: productSet (a variant's metafields list replaces the old one).
function applyVariant(store, product, v, replaceLists) {
  let variant = v.id ? store.variants.get(v.id) : null;
  if (!variant) {
    // The store makes variants with their inventory item through addProduct: the
    // scratch product it creates goes at once, the variant joins `product`.
    const [made] = store.addProduct({ title: 'scratch', variants: [{ sku: v.sku, tracked: false }] });
    store.products.delete(made.productId);
    variant = store.variants.get(made.variantId);
    variant.productId = product.id;
  }
  if (v.sku !== undefined) setSku(store, variant, v.sku == null ? null : String(v.sku));
  if (v.price != null) variant.price = Number(v.price).toFixed(2);
  if (v.barcode !== undefined) variant.barcode = v.barcode;
  if (v.optionValues) {
    variant.selectedOptions = v.optionValues.map((ov) => ({ name: ov.optionName, value: String(ov.name) }));
    variant.title = variant.selectedOptions.map((o) => o.value).join(' / ');
  }
  if (replaceLists && v.metafields) variant.metafields = {};
  upsertMetafields(store, variant, v.metafields);
  const item = store.items.get(variant.inventoryItemId);
  const ii = v.inventoryItem || {};
  if (ii.tracked != null) item.tracked = ii.tracked;
  if (ii.measurement && ii.measurement.weight) item.weight = Object.assign({}, ii.measurement.weight);
  variant.updatedAt = new Date().toISOString();
  return variant.id;
}

function productSet(_src, args, ctx) {
  const store = ctx.store;
  const input = args.input;
  const existing = input.id ? store.products.get(input.id) || null : null;
  const userErrors = checkProductSet(store, input, existing);
  if (userErrors.length) return { product: null, productSetOperation: null, userErrors };
  let product = existing;
  if (!product) {
    const pid = store.newId('Product');
    product = { id: pid.gid, num: pid.num, title: String(input.title || `Product ${pid.num}`), variantIds: [],
      createdAt: new Date().toISOString() };
    if (input.handle == null) {  // Shopify makes a generated handle unique
      let h = slug(product.title) || `product-${pid.num}`;
      for (let k = 1; productByHandle(store, h); k++) h = `${slug(product.title)}-${k}`;
      product.handle = h;
    }
    store.products.set(product.id, product);
  }
  if (input.title != null) product.title = String(input.title);
  if (input.handle != null) product.handle = String(input.handle);
  if (input.descriptionHtml != null) product.descriptionHtml = String(input.descriptionHtml);
  if (input.status != null) product.status = input.status;
  if (input.metafields) product.metafields = {};  // a list field: what is not listed goes
  upsertMetafields(store, product, input.metafields);
  if (input.productOptions) {
    product.options = input.productOptions.map((o, i) => ({ id: store.newId('ProductOption').gid, name: String(o.name),
      position: o.position || i + 1, optionValues: (o.values || []).map((v) => ({ id: store.newId('ProductOptionValue').gid,
        name: String(v.name) })) }));
  }
  if (input.variants) {
    const keep = input.variants.map((v) => applyVariant(store, product, Object.assign({}, v), true));
    for (const id of product.variantIds) if (!keep.includes(id)) removeVariant(store, store.variants.get(id));
    product.variantIds = keep;
  }
  product.updatedAt = new Date().toISOString();
  return { product, productSetOperation: null, userErrors: [] };
}

function productVariantsBulkUpdate(_src, args, ctx) {
  const store = ctx.store;
  const product = store.products.get(args.productId);
  if (!product) return { product: null, productVariants: null, userErrors: [ue('PRODUCT_DOES_NOT_EXIST', ['productId'], 'Product does not exist')] };
  const userErrors = [];
  args.variants.forEach((v, i) => {
    const sv = v.id ? store.variants.get(v.id) : null;
    if (!sv || sv.productId !== product.id) userErrors.push(ue('PRODUCT_VARIANT_DOES_NOT_EXIST', ['variants', String(i), 'id'], 'Product variant does not exist'));
    if (v.price != null && !(Number(v.price) >= 0)) userErrors.push(ue('INVALID_INPUT', ['variants', String(i), 'price'], 'Price must be greater than or equal to 0'));
  });
  if (userErrors.length) return { product, productVariants: null, userErrors };
  const changed = args.variants.map((v) => store.variants.get(applyVariant(store, product, Object.assign({}, v))));
  return { product, productVariants: changed, userErrors: [] };
}

// metafieldsSet: at most 25 a call, atomic; owners are products and variants here.
function metafieldsSet(_src, args, ctx) {
  const store = ctx.store;
  const list = args.metafields;
  const owner = (id) => store.products.get(id) || store.variants.get(id) || null;
  const userErrors = [];
  if (list.length > 25) userErrors.push({ code: 'LESS_THAN_OR_EQUAL_TO', elementIndex: null, field: ['metafields'], message: 'Exceeded the maximum metafields input limit of 25.' });
  list.forEach((m, i) => {
    if (!owner(m.ownerId)) userErrors.push({ code: 'INVALID_VALUE', elementIndex: i, field: ['metafields', String(i), 'ownerId'], message: 'Owner does not exist.' });
  });
  if (userErrors.length) return { metafields: [], userErrors };
  const out = list.map((m) => {
    const o = owner(m.ownerId);
    upsertMetafields(store, o, [m]);
    return Object.assign({ namespace: m.namespace, key: m.key }, o.metafields[`${m.namespace}.${m.key}`]);
  });
  return { metafields: out, userErrors: [] };
}

function dumpProduct(store, p) {
  let product = p.id ? store.products.get(p.id) : null;
  if (!product && p.sku != null) {
    const ids = store.skuIndex.get(String(p.sku)) || [];
    if (ids.length) product = store.products.get(store.variants.get(ids[0]).productId);
  }
  if (!product) return { product: null };
  const variants = product.variantIds.map((id) => {
    const v = store.variants.get(id);
    const item = store.items.get(v.inventoryItemId);
    return { id: v.id, sku: v.sku, title: v.title, price: v.price || null, barcode: v.barcode || null,
      selectedOptions: v.selectedOptions || null, metafields: v.metafields || {}, tracked: item.tracked, weight: item.weight || null };
  });
  return { product: { id: product.id, title: product.title, handle: handleOf(product), status: product.status || 'ACTIVE',
    descriptionHtml: product.descriptionHtml || '', metafields: product.metafields || {},
    options: (product.options || []).map((o) => ({ name: o.name, values: o.optionValues.map((v) => v.name) })), variants } };
}

function install({ RESOLVERS, storeExtras }) {
  Object.assign(RESOLVERS, {
    'QueryRoot.product': (_s, args, ctx) => ctx.store.products.get(args.id) || null,
    'Product.handle': handleOf,
    'Product.status': (p) => p.status || 'ACTIVE',
    'Product.descriptionHtml': (p) => p.descriptionHtml || '',
    'Product.metafield': (p, args) => metafieldOf(p, args),
    'Product.options': (p, args) => (p.options || [{ id: `gid://shopify/ProductOption/${p.num}`, name: DEFAULT_OPTION.name,
      position: 1, optionValues: [{ id: `gid://shopify/ProductOptionValue/${p.num}`, name: DEFAULT_OPTION.value }] }])
      .slice(0, args.first == null ? undefined : args.first),
    'ProductOption.values': (o) => o.optionValues.map((v) => v.name),
    'ProductOptionValue.hasVariants': () => true,
    'ProductVariant.price': (v) => v.price || '0.00',
    'ProductVariant.barcode': (v) => v.barcode || null,
    'ProductVariant.selectedOptions': (v) => v.selectedOptions || [{ name: DEFAULT_OPTION.name, value: DEFAULT_OPTION.value }],
    'ProductVariant.metafield': (v, args) => metafieldOf(v, args),
    'InventoryItem.measurement': (item) => ({ id: `gid://shopify/InventoryItemMeasurement/${item.num}`,
      weight: item.weight || { value: 0, unit: 'KILOGRAMS' } }),
    'Mutation.productSet': productSet,
    'Mutation.productVariantsBulkUpdate': productVariantsBulkUpdate,
    'Mutation.metafieldsSet': metafieldsSet,
  });
  storeExtras.product = dumpProduct;
}

module.exports = { install, MAX_OPTIONS, MAX_VARIANTS };
