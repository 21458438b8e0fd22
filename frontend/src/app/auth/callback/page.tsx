import { SignInCallback } from '@/components/SignInCallback';

export const metadata = { title: 'Signing in · quantdesk' };

export default function Callback() {
  return <SignInCallback />;
}
