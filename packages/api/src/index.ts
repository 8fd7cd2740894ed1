export { httpForwarder } from './forward.js';
export { type UnitInspection } from './inspection.js';
export { type ApiDeps, type ApiResponse } from './request.js';
export { handleApiRequest } from './routes.js';
export { startApiServer, type ApiServer } from './server.js';
export { readApiTls, type ApiTlsConfig } from './tls.js';
