import { GOOGLE_DOMAINS } from './google-domains.js';

export type YoutubeMode = 'strict' | 'moderate';

/**
 * Safe-search rewrites, as the search engines document them: the exact names their sites and apps
 * use, each answered with a CNAME to the engine's enforced-safe endpoint.
 */
export function safeSearchRewrites(youtube: YoutubeMode): Map<string, string> {
  const map = new Map<string, string>();
  for (const d of GOOGLE_DOMAINS) {
    map.set(d, 'forcesafesearch.google.com');
    map.set(`www.${d}`, 'forcesafesearch.google.com');
  }
  for (const n of ['www.bing.com', 'bing.com']) map.set(n, 'strict.bing.com');
  const yt = youtube === 'strict' ? 'restrict.youtube.com' : 'restrictmoderate.youtube.com';
  for (const n of [
    'www.youtube.com',
    'm.youtube.com',
    'youtubei.googleapis.com',
    'youtube.googleapis.com',
    'www.youtube-nocookie.com',
  ])
    map.set(n, yt);
  for (const n of ['duckduckgo.com', 'www.duckduckgo.com', 'start.duckduckgo.com']) map.set(n, 'safe.duckduckgo.com');
  return map;
}
