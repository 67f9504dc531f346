/** The output (webhooks) slice's public surface: its role, subscriptions, announcements. */
export { announceReplay } from './announce.js';
export { startOutputRole } from './role.js';
export { WebhookAllowlist, checkTarget } from './ssrf.js';
export {
  createSubscription,
  deleteSubscription,
  deliveryLog,
  getSubscription,
  listSubscriptions,
  redriveDeliveries,
  rotateCallbackSecret,
  rotateSubscriptionSecret,
  webhookEventTypes,
} from './subscriptions.js';
