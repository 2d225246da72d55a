'use strict';
/*
 * Control endpoints that change the shop behind stockrelay's back, as a
 * merchant or another app would (POST /_control/<name>):
 *   level    {inventoryItemId | sku, location, available}  sets a level (creates it when missing)
 *   delete   {variantId | sku}                            deletes the variant and its inventory item
 *   tracked  {inventoryItemId | sku, tracked}             stops (or restarts) tracking inventory
 *   generate {count, locations:[gid|name], skuPrefix?, start?, quantity?, every?}
 *            creates `count` single-variant products quickly (bench: 100k items without a 100k-line JSON body);
 *            quantity of item i = (quantity ?? i % 100) at every listed location.
 */

function itemRef(store, p) {
  let item = p.inventoryItemId ? store.items.get(p.inventoryItemId) : null;
  if (!item && p.sku != null) {
    const ids = store.skuIndex.get(String(p.sku)) || [];
    if (ids.length > 1) throw new Error(`sku ${p.sku} is on ${ids.length} variants; name the inventoryItemId`);
    if (ids.length) item = store.items.get(store.variants.get(ids[0]).inventoryItemId);
  }
  if (!item) throw new Error(`no inventory item ${p.inventoryItemId || p.sku}`);
  return item;
}

function setLevel(store, p) {
  const item = itemRef(store, p);
  const loc = store.resolveLocationRef(p.location);
  if (!loc) throw new Error(`unknown location ${p.location}`);
  const level = store.ensureLevel(item, loc);
  store.applyQuantity(level, 'available', Number(p.available) | 0, null, 'merchant');
  return { inventoryItemId: item.id, locationId: loc.id, available: level.q.available };
}

function deleteVariant(store, p) {
  let variant = p.variantId ? store.variants.get(p.variantId) : null;
  if (!variant && p.sku != null) variant = store.variants.get(store.items.get(itemRef(store, p).id).variantId);
  if (!variant) throw new Error(`no variant ${p.variantId || p.sku}`);
  if (variant.sku !== null) {
    const ids = (store.skuIndex.get(variant.sku) || []).filter((id) => id !== variant.id);
    if (ids.length) store.skuIndex.set(variant.sku, ids); else store.skuIndex.delete(variant.sku);
  }
  for (const level of store.itemLevels(variant.inventoryItemId)) store.levels.delete(store.levelKey(level.itemId, level.locationId));
  store.levelsByItem.delete(variant.inventoryItemId);
  store.items.delete(variant.inventoryItemId);
  store.variants.delete(variant.id);
  const product = store.products.get(variant.productId);
  if (product) {
    product.variantIds = product.variantIds.filter((id) => id !== variant.id);
    if (!product.variantIds.length) store.products.delete(product.id);
  }
  return { deleted: variant.id, inventoryItemId: variant.inventoryItemId };
}

function setTracked(store, p) {
  const item = itemRef(store, p);
  item.tracked = p.tracked === true;
  return { inventoryItemId: item.id, tracked: item.tracked };
}

function generate(store, p) {
  const count = Number(p.count) | 0;
  const prefix = p.skuPrefix != null ? String(p.skuPrefix) : 'GEN-';
  const start = Number(p.start) | 0;
  const locs = (p.locations || []).map((ref) => store.resolveLocationRef(ref));
  if (locs.some((l) => !l)) throw new Error('generate: unknown location');
  for (let i = 0; i < count; i++) {
    const n = start + i;
    const qty = p.quantity != null ? Number(p.quantity) : n % 100;
    const levels = {};
    for (const l of locs) levels[l.id] = qty;
    store.addProduct({ title: `Generated ${n}`, variants: [{ sku: `${prefix}${n}`, levels }] });
  }
  return { created: count, items: store.items.size };
}

module.exports = { storeExtras: { level: setLevel, delete: deleteVariant, tracked: setTracked, generate } };
