import { AnalyticsPage } from '@/components/AnalyticsPage';

export const metadata = { title: 'Prompt analytics · quantdesk' };

export default function Analytics() {
  return <AnalyticsPage />;
}
