import type { Metadata, Viewport } from 'next';
import type { ReactNode } from 'react';
import { RouteFocus } from '@/components/RouteFocus';
import { SiteHeader } from '@/components/SiteHeader';
import 'uplot/dist/uPlot.min.css';
import './globals.css';

export const metadata: Metadata = {
  title: 'quantdesk',
  description: 'Prompt-driven quant research',
};

export const viewport: Viewport = {
  width: 'device-width',
  initialScale: 1,
  colorScheme: 'light dark',
};

// Applies the saved theme before first paint, so a dark-mode user never sees a light flash.
const THEME_SCRIPT = `try{var t=localStorage.getItem('qd.theme');if(t==='light'||t==='dark')document.documentElement.dataset.theme=t}catch(e){}`;

export default function RootLayout({ children }: { children: ReactNode }) {
  return (
    <html lang="en" suppressHydrationWarning>
      <head>
        {/* biome-ignore lint/security/noDangerouslySetInnerHtml: a constant; it must run before first paint */}
        <script dangerouslySetInnerHTML={{ __html: THEME_SCRIPT }} />
      </head>
      <body>
        <a className="skip-link" href="#main">
          Skip to content
        </a>
        <SiteHeader />
        <RouteFocus />
        <main id="main" tabIndex={-1}>
          {children}
        </main>
      </body>
    </html>
  );
}
