'use strict';
/*
 * Shopify's search syntax as the emulator understands it (moved out of server.js):
 * tokenizeSearch(q) -> OR-groups of AND-terms; termMatches(term, {id, sku, title}).
 */
const gidNum = (gid) => {
  const m = /^gid:\/\/shopify\/[A-Za-z]+\/(\d+)/.exec(String(gid));
  return m ? Number(m[1]) : NaN;
};

// Shopify search: terms separated by whitespace (implicit AND) and "OR"; values
// bare, 'single' or "double" quoted with backslash escapes; parentheses ignored.
function tokenizeSearch(q) {
  const toks = [];
  let i = 0;
  const n = q.length;
  while (i < n) {
    const c = q[i];
    if (c === ' ' || c === '\t' || c === '\n' || c === '(' || c === ')') { i++; continue; }
    let neg = false;
    if (c === '-' ) { neg = true; i++; }
    // read field name (up to ':' or whitespace)
    let j = i;
    while (j < n && !/[\s:()'"]/.test(q[j])) j++;
    let field = null;
    let raw = q.slice(i, j);
    if (q[j] === ':') { field = raw.toLowerCase(); j++; raw = ''; }
    let value = raw;
    let quoted = false;
    if (field !== null) {
      if (q[j] === "'" || q[j] === '"') {
        const quote = q[j];
        j++;
        let v = '';
        while (j < n && q[j] !== quote) {
          if (q[j] === '\\' && j + 1 < n) { v += q[j + 1]; j += 2; } else { v += q[j]; j++; }
        }
        j++; // closing quote
        value = v;
        quoted = true;
      } else {
        let k = j;
        let v = '';
        while (k < n && !/[\s()]/.test(q[k])) {
          if (q[k] === '\\' && k + 1 < n) { v += q[k + 1]; k += 2; } else { v += q[k]; k++; }
        }
        value = v;
        j = k;
      }
    } else if (q[j] === "'" || q[j] === '"') {
      const quote = q[j];
      j++;
      let v = '';
      while (j < n && q[j] !== quote) {
        if (q[j] === '\\' && j + 1 < n) { v += q[j + 1]; j += 2; } else { v += q[j]; j++; }
      }
      j++;
      value = v;
      quoted = true;
    }
    i = j;
    if (field === null && !quoted && (value === 'OR' || value === 'AND')) { toks.push({ op: value }); continue; }
    if (field === null && value === '') continue;
    toks.push({ field, value, neg, quoted });
  }
  // groups: OR of ANDs
  const groups = [[]];
  for (const t of toks) {
    if (t.op === 'OR') groups.push([]);
    else if (t.op === 'AND') continue;
    else groups[groups.length - 1].push(t);
  }
  return groups.filter((g) => g.length);
}

function termMatches(term, rec) {
  let ok;
  const v = term.value;
  switch (term.field) {
    case 'sku': {
      const sku = rec.sku == null ? '' : rec.sku;
      ok = !term.quoted && v.endsWith('*') ? sku.startsWith(v.slice(0, -1)) : sku === v;
      break;
    }
    case 'id': ok = String(gidNum(rec.id)) === v.replace(/^gid:\/\/shopify\/[A-Za-z]+\//, ''); break;
    case 'title': ok = (rec.title || '').toLowerCase().includes(v.toLowerCase()); break;
    case null: ok = (rec.sku || '').toLowerCase().includes(v.toLowerCase())
      || (rec.title || '').toLowerCase().includes(v.toLowerCase()); break;
    default: ok = false; // approximation: unknown filter fields match nothing
  }
  return term.neg ? !ok : ok;
}

module.exports = { tokenizeSearch, termMatches };
