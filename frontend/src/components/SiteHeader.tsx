'use client';

import Link from 'next/link';
import { usePathname } from 'next/navigation';
import { AccountMenu } from './AccountMenu';
import { AlertBell } from './AlertBell';
import { ThemeToggle } from './ThemeToggle';

const LINKS = [
  { href: '/', label: 'Prompt' },
  { href: '/history/', label: 'History' },
  { href: '/analytics/', label: 'Analytics' },
];

export function SiteHeader() {
  const pathname = usePathname();
  return (
    <header className="site-header">
      <Link href="/" className="brand" aria-label="quantdesk home">
        <span aria-hidden="true" className="brand-mark">
          ◆
        </span>{' '}
        quantdesk
      </Link>
      <nav aria-label="Main">
        <ul>
          {LINKS.map((link) => {
            const current = link.href === '/' ? pathname === '/' : pathname?.startsWith(link.href.replace(/\/$/, ''));
            return (
              <li key={link.href}>
                <Link href={link.href} aria-current={current ? 'page' : undefined}>
                  {link.label}
                </Link>
              </li>
            );
          })}
        </ul>
      </nav>
      {/* not on the sign-in callback: its tokens are not redeemed yet */}
      {!pathname?.startsWith('/auth/') && <AlertBell />}
      <AccountMenu />
      <ThemeToggle />
    </header>
  );
}
