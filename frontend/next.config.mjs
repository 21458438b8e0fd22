/** Static export served from S3 behind CloudFront (and by the local origin on :8080).
 * trailingSlash: the origins serve `/<path>/index.html` for `/<path>/`. */
const nextConfig = {
  output: 'export',
  trailingSlash: true,
  images: { unoptimized: true },
  reactStrictMode: true,
  poweredByHeader: false,
};

export default nextConfig;
