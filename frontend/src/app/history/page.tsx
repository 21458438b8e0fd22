import { HistoryPage } from '@/components/HistoryPage';

export const metadata = { title: 'History · quantdesk' };

export default function History() {
  return <HistoryPage />;
}
