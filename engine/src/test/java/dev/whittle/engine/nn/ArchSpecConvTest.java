package dev.whittle.engine.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.whittle.engine.BadInputException;
import dev.whittle.engine.Layer;
import dev.whittle.engine.Tensor;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The spec parser's convolutional layers: presets, shapes, and the errors a bad spec gets. */
class ArchSpecConvTest {

    private static final int[] MNIST = {1, 28, 28};

    private static List<int[]> shapes(Sequential model) {
        List<int[]> s = new ArrayList<>();
        for (Layer l : model.layers()) s.add(l.outputShape());
        return s;
    }

    @Test
    void lenet5HasTheClassicShapesAndParameterCount() throws BadInputException {
        Sequential m = ArchSpec.build("lenet5", MNIST, 0);
        List<int[]> s = shapes(m);
        assertArrayEquals(new int[] {6, 28, 28}, s.get(0));
        assertArrayEquals(new int[] {6, 14, 14}, s.get(2));
        assertArrayEquals(new int[] {16, 10, 10}, s.get(3));
        assertArrayEquals(new int[] {16, 5, 5}, s.get(5));
        assertArrayEquals(new int[] {400}, s.get(6));
        assertArrayEquals(new int[] {10}, m.outputShape());
        assertEquals(61_706, m.parameterCount());
        // a batch runs through and back
        Tensor y = m.forward(GradientCheck.random(1, 3, 1, 28, 28), true);
        assertArrayEquals(new int[] {3, 10}, y.shape());
        m.setInputGradientNeeded(true);
        assertArrayEquals(new int[] {3, 1, 28, 28}, m.backward(GradientCheck.random(2, 3, 10)).shape());
    }

    @Test
    void skippingTheInputGradientLeavesParameterGradientsBitIdentical() throws BadInputException {
        for (String spec : new String[] {"lenet5", "lenet-300-100"}) {
            Sequential m = ArchSpec.build(spec, MNIST, 3);
            Tensor x = GradientCheck.random(4, 5, 1, 28, 28);
            Tensor g = GradientCheck.random(5, 5, 10);
            m.setInputGradientNeeded(true);
            m.zeroGrad();
            m.forward(x, true);
            assertArrayEquals(new int[] {5, 1, 28, 28}, m.backward(g).shape());
            List<Tensor> full = new java.util.ArrayList<>();
            for (var p : m.parameters()) full.add(p.grad().copy());
            m.setInputGradientNeeded(false);
            m.zeroGrad();
            m.forward(x, true);
            assertEquals(null, m.backward(g));
            for (int i = 0; i < full.size(); i++) {
                assertEquals(true, full.get(i).bitEquals(m.parameters().get(i).grad()), spec + " parameter " + i);
            }
        }
    }

    @Test
    void lenet5WideAndConvnet3Build() throws BadInputException {
        Sequential wide = ArchSpec.build("lenet5-wide", MNIST, 0);
        assertArrayEquals(new int[] {10}, wide.outputShape());
        // conv 32*25+32, conv 64*32*25+64, linear 1600*256+256, 256*128+128, 128*10+10
        assertEquals(832 + 51_264 + 409_856 + 32_896 + 1_290, wide.parameterCount());

        Sequential c16 = ArchSpec.build("convnet3(16)", MNIST, 0);
        List<int[]> s = shapes(c16);
        assertArrayEquals(new int[] {16, 14, 14}, s.get(2));
        assertArrayEquals(new int[] {16, 7, 7}, s.get(5));
        assertArrayEquals(new int[] {16, 3, 3}, s.get(8)); // avgpool(2) floors 7 to 3
        assertArrayEquals(new int[] {144}, s.get(9));
        assertArrayEquals(new int[] {10}, c16.outputShape());
        assertEquals(160 + 2_320 + 2_320 + 1_450, c16.parameterCount());

        assertEquals(ArchSpec.build("convnet3(32)", MNIST, 0).parameterCount(), ArchSpec.build("convnet3", MNIST, 0).parameterCount());
    }

    @Test
    void everyNewLayerParsesAndItsSpecRebuildsIt() throws BadInputException {
        String spec = "conv(8,3,stride=2,pad=1) bn leakyrelu maxpool(3,1) conv(4,1) tanh avgpool(2,1) sigmoid"
                + " leakyrelu(0.2) gap bn linear(5)";
        Sequential m = ArchSpec.build(spec, new int[] {3, 9, 7}, 1);
        List<String> specs = new ArrayList<>();
        for (Layer l : m.layers()) specs.add(l.spec());
        assertEquals(List.of("conv(8,3,stride=2,pad=1)", "bn", "leakyrelu(0.01)", "maxpool(3,1)", "conv(4,1)", "tanh",
                "avgpool(2,1)", "sigmoid", "leakyrelu(0.2)", "gap", "bn", "linear(5)"), specs);
        assertTrue(m.layers().get(1) instanceof BatchNorm2d);
        assertTrue(m.layers().get(10) instanceof BatchNorm1d);
        Sequential again = ArchSpec.build(String.join(" ", specs), new int[] {3, 9, 7}, 1);
        assertEquals(m.parameterCount(), again.parameterCount());
        for (int i = 0; i < specs.size(); i++) assertArrayEquals(m.layers().get(i).outputShape(), again.layers().get(i).outputShape());
        Tensor y = m.forward(GradientCheck.random(3, 4, 3, 9, 7), true);
        assertArrayEquals(new int[] {4, 5}, y.shape());
        m.backward(GradientCheck.random(4, 4, 5));
    }

    private static void rejected(String spec, int[] input, String layerText, String... mentions) {
        BadInputException e = assertThrows(BadInputException.class, () -> ArchSpec.build(spec, input, 0), spec);
        String msg = e.getMessage();
        assertTrue(msg.contains("\"" + layerText + "\""), () -> "should name the layer " + layerText + ": " + msg);
        assertTrue(!msg.contains("\n"), () -> "one line: " + msg);
        for (String m : mentions) assertTrue(msg.contains(m), () -> "should mention " + m + ": " + msg);
    }

    @Test
    void badSpecsAreRejectedNamingTheLayer() {
        rejected("conv(6,30)", MNIST, "conv(6,30)", "[1, 28, 28]", "28x28");
        rejected("conv(6,5) relu conv(16,5,pad=1) maxpool(2) conv(8,12)", MNIST, "conv(8,12)", "[16, 11, 11]", "11x11");
        rejected("conv(6,3,stride=0)", MNIST, "conv(6,3,stride=0)", "stride");
        rejected("conv(6,3,stride=-2)", MNIST, "conv(6,3,stride=-2)", "stride");
        rejected("conv(6,3,pad=-1)", MNIST, "conv(6,3,pad=-1)", "pad");
        rejected("conv(6,3,dilation=2)", MNIST, "conv(6,3,dilation=2)", "dilation");
        rejected("conv(6)", MNIST, "conv(6)");
        rejected("conv(6,3) relu linear(10)", MNIST, "linear(10)", "flatten");
        rejected("linear(10)", MNIST, "linear(10)", "[1, 28, 28]");
        rejected("flatten conv(6,3)", MNIST, "conv(6,3)", "[784]");
        rejected("maxpool(29)", MNIST, "maxpool(29)", "28x28");
        rejected("avgpool(2,0)", MNIST, "avgpool(2,0)", "stride");
        rejected("flatten gap", MNIST, "gap", "[784]");
        rejected("leakyrelu(steep)", MNIST, "leakyrelu(steep)", "slope");
        rejected("tanh(2)", MNIST, "tanh(2)");
        rejected("conv(6,3) swish", MNIST, "swish", "unknown layer");
        rejected("conv(100000,200)", new int[] {1000, 200, 200}, "conv(100000,200)", "weight");
    }
}
