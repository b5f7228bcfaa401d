/**
 * The passkeys' door: `app.passkeys`, the service behind the passkey routes, over the same database,
 * session store and second-factor service (throttle, policy, completing a login) as the rest of the
 * auth room. The relying party comes from configuration only
 * (config.ts `relyingPartyOf`); when it cannot serve, passkeys are off and the start says why.
 */
import fp from 'fastify-plugin';
import { PasskeyService, type PasskeySetup } from './passkey-service.js';

export interface PasskeysPluginOptions {
  setup: PasskeySetup;
  secretKey: string;
}

declare module 'fastify' {
  interface FastifyInstance {
    passkeys: PasskeyService;
  }
}

export default fp<PasskeysPluginOptions>(
  async (app, options) => {
    if ('unavailable' in options.setup) app.log.warn(options.setup.unavailable);
    app.decorate('passkeys', new PasskeyService(app.db, app.oneTimeStore, options.setup, options.secretKey, app.log, app.secondFactor));
  },
  { name: 'passkeys', dependencies: ['sessions', 'database', 'auth'], fastify: '5.x' },
);
