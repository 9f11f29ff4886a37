/** @type {import('next').NextConfig} */
const nextConfig = {
  reactStrictMode: true,
  poweredByHeader: false,
  // The custom server (server/main.ts) owns the port, the WebSockets and the labs.
  serverExternalPackages: ["koffi"],
};
export default nextConfig;
