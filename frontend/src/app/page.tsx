import { PromptPage } from '@/components/PromptPage';

export default function Home() {
  return <PromptPage />;
}
