// Type-level tests of Loose<T> (contract/loose.ts), type-checked by contract/fusionauth-types.test.mjs.
// Every line under `@ts-expect-error` must fail (tsc reports an unused directive otherwise, TS2578),
// every other value must pass. The webhook and tenant-event cases are the shapes FusionAuth's
// documentation gives for webhooks (Record<EventType, …> in the client: any subset of events).
import type { JWT, KeyRequest, TenantRequest, WebhookRequest } from '@fusionauth/typescript-client';
import type { Loose } from './loose';

export const enumsAsStrings: Loose<KeyRequest> = { key: { algorithm: 'RS256', type: 'RSA', length: 2048 } };

export const enumTypo: Loose<KeyRequest> = {
  // @ts-expect-error "RS257" is not a KeyAlgorithm
  key: { algorithm: 'RS257' },
};

export const someEvents: Loose<WebhookRequest> = {
  webhook: {
    url: 'http://localhost:5001/webhooks/fusionauth',
    connectTimeout: 1000,
    readTimeout: 2000,
    global: true,
    eventsEnabled: { 'jwt.refresh-token.revoke': true, 'user.delete': true },
    signatureConfiguration: { enabled: true, signingKeyId: '00000000-0000-0000-0000-000000000002' },
  },
};

export const unknownEvent: Loose<WebhookRequest> = {
  webhook: {
    eventsEnabled: {
      // @ts-expect-error "user.deleted" is not an EventType
      'user.deleted': true,
    },
  },
};

export const tenantEvents: Loose<TenantRequest> = {
  tenant: { eventConfiguration: { events: { 'user.delete': { enabled: true, transactionType: 'None' } } } },
};

export const badTransactionType: Loose<TenantRequest> = {
  tenant: {
    eventConfiguration: {
      events: {
        'user.delete': {
          // @ts-expect-error "none" is not a TransactionType
          transactionType: 'none',
        },
      },
    },
  },
};

export const unknownTenantField: Loose<TenantRequest> = {
  tenant: {
    // @ts-expect-error misspelt field
    isuer: 'http://localhost:9011',
  },
};

// JWT: known claims are typed, any other claim is allowed (index signature).
export const claims: Loose<JWT> = { exp: 1, iss: 'http://localhost:9011', email: 'richard@example.com', custom: { a: 1 } };

export const badExp: Loose<JWT> = {
  // @ts-expect-error exp is a number
  exp: 'tomorrow',
};
