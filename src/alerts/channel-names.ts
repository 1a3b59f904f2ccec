/**
 * The alert channels' names, apart from their code: the metrics on the DNS thread name every channel
 * from the start without importing the channels (nodemailer alone is ~40 ms of the daemon's start).
 */
export type ChannelName = 'email' | 'webhook';
export const CHANNEL_NAMES: readonly ChannelName[] = ['email', 'webhook'];
