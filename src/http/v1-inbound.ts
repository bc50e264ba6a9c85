import fs from 'node:fs';
import type { X509Certificate } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.js';
import {
  checkBasicAuth,
  checkMailgunSignature,
  dsnFor,
  fromMailgun,
  fromPostmark,
  fromRaw,
  fromSendgrid,
  fromSesNotification,
  mailgunEvents,
  type NormalisedInbound,
  pinnedCertificates,
  postmarkEvents,
  type ProviderEvent,
  ProviderAuthError,
  ProviderInputError,
  sendgridEvents,
  sesEvents,
  verifySnsMessage,
} from '../inbound/providers.js';
import { MAX_MESSAGE_BYTES } from '../inbound/smtp-listener.js';
import { errorForLog } from '../logger.js';
import { UNAVAILABLE_RETRY_AFTER_SECONDS, unavailableOrUndefined } from '../services/errors.js';
import { recordComplaint, storeInboundMessage } from '../services/inbound-mail.js';
import { errorBody } from './errors.js';

// Inbound mail from providers' webhooks: the same pipeline as mail received over SMTP. Each route
// checks the provider's credentials or signature first (401, nothing stored), stores the raw
// message (idempotent on the provider's id), and answers; handling happens after.

export interface InboundRouteOptions {
  domain: string;
  webhookUser?: string | undefined;
  webhookPassword?: string | undefined;
  mailgunSigningKey?: string | undefined;
  snsCertificateFile?: string | undefined;
  /** Pinned SNS certificates given directly (tests); otherwise read from snsCertificateFile. */
  snsCertificatesPem?: string;
  onStored?: (id: string) => void;
}

// Room for a 10 MB message once base64 or form encoding has grown it.
const INBOUND_BODY_LIMIT = Math.ceil(MAX_MESSAGE_BYTES * 1.5);

async function formFields(request: FastifyRequest): Promise<Record<string, string>> {
  // Node's own fetch Response parses multipart/form-data and urlencoded bodies.
  const response = new Response(request.body as Buffer, { headers: { 'content-type': String(request.headers['content-type'] ?? '') } });
  let form: FormData;
  try {
    form = await response.formData();
  } catch {
    throw new ProviderInputError('body', 'must be multipart/form-data or application/x-www-form-urlencoded');
  }
  const fields: Record<string, string> = {};
  for (const [key, value] of form.entries()) if (typeof value === 'string') fields[key] = value;
  return fields;
}

export async function v1InboundRoutes(app: FastifyInstance, options: InboundRouteOptions & { db: Kysely<Database>; clock: () => Date }): Promise<void> {
  const certificates: X509Certificate[] = options.snsCertificatesPem
    ? pinnedCertificates(options.snsCertificatesPem)
    : options.snsCertificateFile
      ? pinnedCertificates(fs.readFileSync(options.snsCertificateFile, 'utf8'))
      : [];

  // Raw bodies for everything here: signatures and MIME need the bytes as sent.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: INBOUND_BODY_LIMIT }, (_request, body, done) => done(null, body));

  app.setErrorHandler((error: Error & { statusCode?: number }, _request, reply) => {
    if (error instanceof ProviderAuthError) return reply.code(401).send({ error: 'UNAUTHENTICATED', message: error.message });
    if (error instanceof ProviderInputError) return reply.code(400).send({ error: 'BAD_USER_INPUT', message: `${error.field} ${error.message}`, field: error.field });
    if (error.statusCode === 413) return reply.code(413).send({ error: 'BAD_USER_INPUT', message: 'the message is too large' });
    if (error.statusCode && error.statusCode < 500) return reply.code(error.statusCode).send({ error: 'BAD_USER_INPUT', message: error.message });
    // The database being away is answered as the rest of the API answers it: 503, so the
    // provider keeps the message and posts it again.
    const unavailable = unavailableOrUndefined(error);
    if (unavailable) return reply.code(503).header('retry-after', String(UNAVAILABLE_RETRY_AFTER_SECONDS)).send(errorBody(unavailable));
    app.log.error(errorForLog(error), 'inbound route failed');
    return reply.code(500).send({ error: 'INTERNAL', message: 'the message could not be stored; retry later' });
  });

  const json = (request: FastifyRequest): unknown => {
    try {
      return JSON.parse((request.body as Buffer).toString('utf8'));
    } catch {
      throw new ProviderInputError('body', 'must be JSON');
    }
  };

  const store = async (source: string, message: NormalisedInbound, reply: FastifyReply) => {
    const stored = await storeInboundMessage(options.db, { source, ...message }, options.clock());
    if (stored.id) options.onStored?.(stored.id);
    // A provider retrying a delivery we already have gets the same success: nothing is stored twice.
    return reply.code(stored.duplicate ? 200 : 202).send({ id: stored.id, duplicate: stored.duplicate });
  };

  const storeEvents = async (source: string, events: ProviderEvent[], reply: FastifyReply) => {
    let stored = 0;
    for (const event of events) {
      if (!event.recipient) continue;
      if (event.kind === 'complaint') {
        await recordComplaint(options.db, { ...event, source }, options.clock());
        stored += 1;
        continue;
      }
      const result = await storeInboundMessage(
        options.db,
        { source: `${source}-event`, providerMessageId: event.providerEventId, raw: dsnFor(event, source, options.domain), envelopeTo: [] },
        options.clock(),
      );
      if (result.id) {
        options.onStored?.(result.id);
        stored += 1;
      }
    }
    return reply.code(202).send({ received: events.length, stored });
  };

  const basic = (request: FastifyRequest) => checkBasicAuth(request.headers.authorization, options.webhookUser, options.webhookPassword);
  const routeOptions = { bodyLimit: INBOUND_BODY_LIMIT, schema: { hide: true } } as const;

  app.post('/v1/inbound/postmark', routeOptions, async (request, reply) => {
    basic(request);
    return store('postmark', await fromPostmark(json(request)), reply);
  });

  app.post('/v1/inbound/mailgun', routeOptions, async (request, reply) => {
    const fields = await formFields(request);
    checkMailgunSignature(fields, options.mailgunSigningKey, options.clock());
    return store('mailgun', await fromMailgun(fields), reply);
  });

  app.post('/v1/inbound/sendgrid', routeOptions, async (request, reply) => {
    basic(request);
    return store('sendgrid', await fromSendgrid(await formFields(request)), reply);
  });

  app.post('/v1/inbound/raw', routeOptions, async (request, reply) => {
    basic(request);
    const type = String(request.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
    if (type !== 'message/rfc822') throw new ProviderInputError('content-type', 'must be message/rfc822');
    return store('raw', fromRaw(request.body as Buffer), reply);
  });

  app.post('/v1/inbound/ses', routeOptions, async (request, reply) => {
    const sns = verifySnsMessage(json(request), certificates, options.clock());
    if (sns.Type !== 'Notification') {
      // Subscribing is the operator's step (open the SubscribeURL once); nothing is stored.
      app.log.info({ type: sns.Type, topic: sns.TopicArn }, 'SNS subscription message received; confirm it with its SubscribeURL');
      return reply.code(200).send({ type: sns.Type });
    }
    return store('ses', fromSesNotification(sns), reply);
  });

  app.post('/v1/provider-events/ses', routeOptions, async (request, reply) => {
    const sns = verifySnsMessage(json(request), certificates, options.clock());
    if (sns.Type !== 'Notification') return reply.code(200).send({ type: sns.Type });
    let events: ProviderEvent[];
    try {
      events = sesEvents(sns);
    } catch {
      throw new ProviderInputError('Message', 'must be an SES bounce or complaint notification');
    }
    return storeEvents('ses', events, reply);
  });

  app.post('/v1/provider-events/sendgrid', routeOptions, async (request, reply) => {
    basic(request);
    return storeEvents('sendgrid', sendgridEvents(json(request)), reply);
  });

  app.post('/v1/provider-events/postmark', routeOptions, async (request, reply) => {
    basic(request);
    return storeEvents('postmark', postmarkEvents(json(request)), reply);
  });

  app.post('/v1/provider-events/mailgun', routeOptions, async (request, reply) => {
    const { events, signature } = mailgunEvents(json(request));
    checkMailgunSignature(signature, options.mailgunSigningKey, options.clock());
    return storeEvents('mailgun', events, reply);
  });
}
