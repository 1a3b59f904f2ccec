/**
 * The safeguarding alerts' delivery state, kept by the alerting thread for `webfilter status` and so
 * a daily digest missed while the daemon was down is sent when it starts. Times are ms since the
 * Unix epoch; counts are since the daemon started.
 */
export interface ChannelState {
  channel: string;
  lastSent: number | null;
  lastFailed: number | null;
  lastError: string | null;
  sent: number;
  failed: number;
  abandoned: number;
  queued: number;
  updatedAt: number;
}

export interface AlertStateRepository {
  /** Starts the counts again for these channels and forgets channels no longer configured. */
  reset(channels: string[], at: number): Promise<void>;
  /** Records one delivery result of a channel, and how many messages wait. */
  record(channel: string, result: 'sent' | 'failed' | 'abandoned', at: number, queued: number, error?: string): Promise<void>;
  channels(): Promise<ChannelState[]>;
  /** The start of the local day whose digest was last sent, or null. */
  lastDigestDay(): Promise<number | null>;
  setLastDigestDay(dayStart: number, at: number): Promise<void>;
}
