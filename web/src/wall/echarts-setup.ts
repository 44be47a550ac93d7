// Only the ECharts parts the wall draws (bar charts on a canvas), so the wall's chunk stays small and the
// rest of the app never loads ECharts at all (the wall is a lazily loaded component).
import * as echarts from 'echarts/core';
import { BarChart } from 'echarts/charts';
import { GridComponent, LegendComponent } from 'echarts/components';
import { CanvasRenderer } from 'echarts/renderers';

echarts.use([BarChart, GridComponent, LegendComponent, CanvasRenderer]);

export { echarts };
