import type { Channel } from '../channels/channel.js';
import { createEmailChannel } from '../channels/email/emailChannel.js';
import type { EmailSettings } from '../channels/email/emailRender.js';
import type { RenderedMail } from '../channels/email/mailTransport.js';
import type { SmtpSettings } from '../adapters/config/smtpSettings.js';
import {
  createSmtpTransport,
  type SmtpTransportOptions,
} from '../adapters/outbound/smtpTransport.js';
import type { Logger } from '../domain/shared/logger.js';

/**
 * The `email` channel over the operator's SMTP server (`settings.smtp`, present when both
 * `TIDINGS_SMTP_URL` and `TIDINGS_SMTP_FROM` are set), ready to add to the registry. Logs once
 * how it reaches the server: host, port and TLS mode, whether it authenticates; never the
 * password or the sender's address.
 *
 * The connection is made per mail, so there is nothing to stop.
 */
export const createSmtpEmailChannel = (
  smtp: SmtpSettings,
  logger: Logger,
  options: SmtpTransportOptions = {},
): Channel<EmailSettings, RenderedMail> => {
  const { server } = smtp;
  logger.info('email channel enabled', {
    host: server.host,
    port: server.port,
    tls: server.secure
      ? 'implicit'
      : server.requireTLS
        ? 'starttls-required'
        : 'starttls-if-offered',
    auth: server.auth !== undefined,
  });
  return createEmailChannel({ transport: createSmtpTransport(server, options), from: smtp.from });
};
