import type { Route } from './app.js';
import { deviceRoutes } from './pages/device.js';
import { devicesRoutes } from './pages/devices.js';
import { exceptionRoutes } from './pages/exceptions.js';
import { listRoutes } from './pages/lists.js';
import { loginRoutes } from './pages/login.js';
import { overviewRoutes } from './pages/overview.js';
import { reportRoutes } from './pages/reports.js';
import { requestRoutes } from './pages/requests.js';
import { signalReviewRoutes } from './pages/signal-review.js';
import { ofThisSite } from './reads.js';

/** Every route of the review console, in one place (the tests walk this list). */
export const ROUTES: Route[] = [
  ...loginRoutes,
  ...overviewRoutes,
  ...listRoutes,
  ...deviceRoutes,
  ...devicesRoutes,
  // This filter's site's records: only for accounts whose scope holds the site.
  ...requestRoutes.map(ofThisSite),
  ...exceptionRoutes.map(ofThisSite),
  ...reportRoutes,
  ...signalReviewRoutes,
];
