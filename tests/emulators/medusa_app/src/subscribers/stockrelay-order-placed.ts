// Example: tell stockrelayd about a new order at once (sub-second import)
// instead of waiting for its next poll. Copy into a Medusa project's
// src/subscribers/ and set STOCKRELAY_WEBHOOK_URL (the daemon's public
// https://…/webhooks/<channel id>) and STOCKRELAY_WEBHOOK_SECRET (the
// channel's credentials.webhook_secret). The body is signed like Shopify's
// and WooCommerce's webhooks: base64(HMAC-SHA256(body, secret)) in
// X-Stockrelay-Hmac-Sha256. Polling still runs: a failed POST loses nothing.
import type { SubscriberArgs, SubscriberConfig } from "@medusajs/framework"
import { ContainerRegistrationKeys } from "@medusajs/framework/utils"
import { createHmac } from "crypto"

// What stockrelay's Medusa normalizer reads (as its poll asks GET /admin/orders for).
const FIELDS = [
  "id", "display_id", "status", "email", "created_at", "updated_at", "currency_code",
  "total", "item_subtotal", "tax_total", "shipping_total", "discount_total",
  "items.*", "items.tax_lines.*", "customer.*", "shipping_address.*", "billing_address.*",
  "shipping_methods.*", "shipping_methods.tax_lines.*",
]

export default async function stockrelayOrderPlaced({ event: { data }, container }: SubscriberArgs<{ id: string }>) {
  const url = process.env.STOCKRELAY_WEBHOOK_URL
  const secret = process.env.STOCKRELAY_WEBHOOK_SECRET
  if (!url || !secret) return
  const logger = container.resolve(ContainerRegistrationKeys.LOGGER)
  try {
    const query = container.resolve(ContainerRegistrationKeys.QUERY)
    const { data: orders } = await query.graph({ entity: "order", fields: FIELDS, filters: { id: data.id } })
    const body = JSON.stringify({ event: "order.placed", order: orders[0] })
    const signature = createHmac("sha256", secret).update(body).digest("base64")
    const res = await fetch(url, {
      method: "POST",
      headers: { "Content-Type": "application/json", "X-Stockrelay-Hmac-Sha256": signature,
                 "X-Stockrelay-Delivery-Id": `order.placed:${data.id}` },
      body,
      signal: AbortSignal.timeout(5000),
    })
    if (!res.ok) logger.warn(`stockrelay: ${url} answered HTTP ${res.status} for order ${data.id}; its poll will bring it`)
  } catch (e) {
    logger.warn(`stockrelay: could not notify ${url} of order ${data.id} (${e}); its poll will bring it`)
  }
}

export const config: SubscriberConfig = { event: "order.placed" }
